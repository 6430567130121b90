"""Headless rendering of character motions with PyBullet's software renderer (no display needed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from characters.bullet_body import BulletBody, connect
from characters.errors import atomic_output
from characters.video_out import open_writer
from retargeting.character_motion import CharacterMotion

Progress = Callable[[int, int], None]
Rgba = tuple[float, float, float, float]
Colour = Rgba | Mapping[str, Rgba]
"""One colour for the whole character, or one per body name (an outfit; always opaque)."""


@dataclass(frozen=True)
class RenderOptions:
    width: int = 640  # px
    height: int = 360  # px
    fps: float = 30.0  # frames per second of the video
    distance: float = 3.2  # m, the camera's nearest distance from its target (it backs away to keep every motion in view)
    yaw_deg: float = 90.0  # deg, camera azimuth about +Y from +X; 90 puts the camera on -Z, beside a character facing +X
    pitch_deg: float = -10.0  # deg, negative looks down
    fixed_target: tuple[float, float, float] | None = None  # m; when set the camera stays put, looking at this point
    margin: float = 0.8  # fraction of the half-frame a root (plus FRAME_HALF_WIDTH) may reach when the camera follows
    smoothing_s: float = 1.0  # s, window of the camera's moving average (its distance only ever backs away enough)


FOV_DEG = 45.0  # deg, vertical field of view
NEAR, FAR = 0.05, 50.0  # m, clipping planes
TARGET_HEIGHT = 0.8  # m, height the following camera looks at
FRAME_HALF_WIDTH = 0.5  # m, room kept around each root for the limbs


def projection_matrix(options: RenderOptions) -> tuple[float, ...]:
    """The renderer's OpenGL projection (16 floats, column-major, as PyBullet returns it)."""
    import pybullet

    return tuple(pybullet.computeProjectionMatrixFOV(FOV_DEG, options.width / options.height, NEAR, FAR))


def _eye_direction(options: RenderOptions) -> np.ndarray:
    """Unit vector from the target to the eye: azimuth about +Y from +X towards -Z, negative pitch looks down."""
    yaw, pitch = np.radians(options.yaw_deg), np.radians(options.pitch_deg)
    return np.array([np.cos(pitch) * np.cos(yaw), -np.sin(pitch), -np.cos(pitch) * np.sin(yaw)])


def _moving(values: np.ndarray, half: int, reduce) -> np.ndarray:
    """``reduce`` (np.mean or np.max) over a window of ``2 half + 1`` frames along axis 0, clipped at the ends."""
    if half <= 0:
        return values
    return np.stack([reduce(values[max(0, f - half):f + half + 1], axis=0) for f in range(len(values))])


def camera_path(roots: np.ndarray, options: RenderOptions) -> tuple[np.ndarray, np.ndarray]:
    """Where the camera looks and from where, frame by frame, so that every motion stays in view.

    ``roots (M, F, 3)`` m: the root positions of the M motions shown, at each of F frames.
    Returns ``targets (F, 3)`` and ``eyes (F, 3)`` in metres. The camera looks at the smoothed
    midpoint of the roots (at TARGET_HEIGHT) from the options' azimuth and pitch, and backs away
    from its nearest ``options.distance`` as far as needed for each root, widened by
    FRAME_HALF_WIDTH, to stay within ``options.margin`` of the frame's half-width and half-height.
    With ``options.fixed_target`` it stays put at ``options.distance``.
    """
    roots = np.asarray(roots, dtype=float)
    frames = roots.shape[1]
    back = _eye_direction(options)
    if options.fixed_target is not None:
        target = np.asarray(options.fixed_target, dtype=float)
        return np.tile(target, (frames, 1)), np.tile(target + options.distance * back, (frames, 1))
    half = int(round(options.smoothing_s * options.fps / 2))
    middle = roots.mean(axis=0)
    middle[:, 1] = TARGET_HEIGHT
    targets = _moving(middle, half, np.mean)
    # Camera axes: forward looks from the eye to the target; right is horizontal; up completes them.
    forward = -back
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    tan_v = np.tan(np.radians(FOV_DEG) / 2) * options.margin
    tan_h = tan_v * options.width / options.height
    offsets = roots - targets[None]  # (M, F, 3)
    depth_shift = offsets @ forward  # a root beyond the target is farther from the eye
    sideways = np.abs(offsets @ right) + FRAME_HALF_WIDTH
    upward = np.abs(offsets @ up) + FRAME_HALF_WIDTH
    needed = np.maximum(sideways / tan_h, upward / tan_v) - depth_shift  # (M, F): distance at which that root just fits
    distance = np.maximum(options.distance, needed.max(axis=0))
    # A moving maximum, then a moving average over a narrower window, is still at least the distance each frame needs.
    distance = _moving(_moving(distance, half, np.max), half // 2, np.mean)
    return targets, targets + distance[:, None] * back[None]


def view_matrices(roots: np.ndarray, options: RenderOptions) -> list[tuple[float, ...]]:
    """The renderer's OpenGL view matrix (16 floats, column-major) at each frame, for ``roots (M, F, 3)`` m."""
    import pybullet

    targets, eyes = camera_path(roots, options)
    return [tuple(pybullet.computeViewMatrix(e.tolist(), t.tolist(), [0, 1, 0])) for e, t in zip(eyes, targets)]


def project(points: np.ndarray, view: Sequence[float], projection: Sequence[float], options: RenderOptions) -> np.ndarray:
    """Pixel coordinates ``(N, 2)`` (x right, y down) of world ``points (N, 3)`` m seen by a camera; NaN behind it."""
    homogeneous = np.c_[np.asarray(points, dtype=float), np.ones(len(points))]
    clip = homogeneous @ np.asarray(view).reshape(4, 4) @ np.asarray(projection).reshape(4, 4)  # column-major: row vectors
    w = np.where(clip[:, 3] > 0, clip[:, 3], np.nan)
    ndc = clip[:, :2] / w[:, None]
    return np.c_[(ndc[:, 0] + 1) / 2 * options.width, (1 - ndc[:, 1]) / 2 * options.height]


def _coloured_bodies(client, motions) -> list[BulletBody]:
    bodies = []
    for motion, rgba in motions:
        body = BulletBody(client, motion.character, fixed_base=True)
        if isinstance(rgba, Mapping):
            body.set_outfit(rgba)
        else:
            body.set_color(rgba)
        bodies.append(body)
    return bodies


def render_motions(
    motions: Sequence[tuple[CharacterMotion, Colour]],
    out_path: str | Path,
    options: RenderOptions = RenderOptions(),
    seconds: float | None = None,
    progress: Progress | None = None,
) -> Path:
    """Render ``(motion, rgba)`` pairs together into an mp4 (or a single frame into a .png).

    A motion whose alpha is below 1 is drawn as a translucent ghost.

    The camera keeps every motion's root in view (:func:`camera_path`) unless ``options.fixed_target`` is set. ``seconds``
    defaults to the first motion's duration; ``wrap`` clips loop, others hold their last frame.
    """
    out_path = Path(out_path)
    client = connect()
    try:
        bodies = _coloured_bodies(client, motions)
        duration = motions[0][0].duration if seconds is None else seconds
        frames = 1 if out_path.suffix.lower() == ".png" else max(1, int(round(duration * options.fps)) + 1)
        times = np.arange(frames) / options.fps
        samples = [m.sample(times) for m, _ in motions]
        views = view_matrices(np.stack([s[0] for s in samples]), options)
        projection = projection_matrix(options)
        ghosts = [i for i, (_, rgba) in enumerate(motions) if not isinstance(rgba, Mapping) and rgba[3] < 1.0]

        def snapshot(view) -> np.ndarray:
            _, _, rgba, _, _ = client.getCameraImage(options.width, options.height, view, projection, renderer=client.ER_TINY_RENDERER)
            return cv2.cvtColor(np.asarray(rgba, dtype=np.uint8).reshape(options.height, options.width, 4), cv2.COLOR_RGBA2BGR)

        with atomic_output(out_path) as tmp:
            writer = None
            if frames > 1:
                writer = open_writer(tmp, options.fps, (options.width, options.height))
            for f in range(frames):
                for body, (root_pos, root_rot, joint_rot) in zip(bodies, samples):
                    body.set_pose(root_pos[f], root_rot[f], joint_rot[f])
                view = views[f]
                bgr = snapshot(view)
                if ghosts:
                    # The software renderer ignores alpha: draw the ghosts by blending a frame
                    # with them and one without (they are parked far below the floor).
                    for g in ghosts:
                        bodies[g].set_pose(np.array([0.0, -50.0, 0.0]), samples[g][1][f], samples[g][2][f])
                    alpha = motions[ghosts[0]][1][3]
                    bgr = cv2.addWeighted(bgr, alpha, snapshot(view), 1.0 - alpha, 0.0)
                if writer is None:
                    cv2.imwrite(str(tmp), bgr)
                else:
                    writer.write(bgr)
                if progress:
                    progress(f + 1, frames)
            if writer is not None:
                writer.release()
    finally:
        client.disconnect()
    return out_path


def play_in_gui(motions: Sequence[tuple[CharacterMotion, tuple[float, float, float, float]]], speed: float = 1.0) -> None:
    """Play motions kinematically in PyBullet's window (needs a display), in real time."""
    import time

    client = connect(gui=True)
    try:
        bodies = _coloured_bodies(client, motions)
        duration = motions[0][0].duration
        start = time.monotonic()
        while client.isConnected() and (now := (time.monotonic() - start) * speed) <= duration:
            for body, (motion, _) in zip(bodies, motions):
                root_pos, root_rot, joint_rot = motion.sample(np.array([now]))
                body.set_pose(root_pos[0], root_rot[0], joint_rot[0])
            time.sleep(1.0 / 60.0)
    finally:
        if client.isConnected():
            client.disconnect()
