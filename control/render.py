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
    distance: float = 3.2  # m, camera distance from the tracked root
    yaw_deg: float = 90.0  # deg, camera azimuth about +Y from +X; 90 puts the camera on -Z, beside a character facing +X
    pitch_deg: float = -10.0  # deg, negative looks down
    fixed_target: tuple[float, float, float] | None = None  # m; when set the camera stays put, looking at this point


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

    The camera follows the first motion's root horizontally unless ``options.fixed_target`` is set. ``seconds`` defaults to the
    first motion's duration; ``wrap`` clips loop, others hold their last frame.
    """
    out_path = Path(out_path)
    client = connect()
    try:
        bodies = _coloured_bodies(client, motions)
        duration = motions[0][0].duration if seconds is None else seconds
        frames = 1 if out_path.suffix.lower() == ".png" else max(1, int(round(duration * options.fps)) + 1)
        times = np.arange(frames) / options.fps
        samples = [m.sample(times) for m, _ in motions]
        yaw, pitch = np.radians(options.yaw_deg), np.radians(options.pitch_deg)
        # Azimuth measured about +Y from +X towards -Z; negative pitch looks down.
        eye_offset = options.distance * np.array([np.cos(pitch) * np.cos(yaw), -np.sin(pitch), -np.cos(pitch) * np.sin(yaw)])
        projection = client.computeProjectionMatrixFOV(45, options.width / options.height, 0.05, 50)
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
                if options.fixed_target is None:
                    target = samples[0][0][f].copy()
                    target[1] = 0.8
                else:
                    target = np.asarray(options.fixed_target, dtype=float)
                view = client.computeViewMatrix((target + eye_offset).tolist(), target.tolist(), [0, 1, 0])
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
