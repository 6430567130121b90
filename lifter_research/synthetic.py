"""Synthetic training clips for the lifter (Doersch & Zisserman §3.1, adapted).

mocap (SMPL world rotations) -> augmentation (mirror, speed, body proportions; optionally
body parts swapped between clips, random limb poses, torso bends, joint-angle noise and body turns,
``pose_augment``) -> a random camera (height, distance, focal length; a tripod, or a handheld camera that follows the person
and shakes) -> textured capsule bodies drawn over a moving background, with occluders fixed
to the scene -> the video front end's own crop flow (``CropFlow``, DIS) -> simulated 2D
keypoints with detector-like noise (jitter, drift, outliers, left/right swaps, low confidence
where occluded) -> chunks of frames totally occluded (flag set, keypoints and flow zero, as the
front end leaves them when it finds no one).

Everything is drawn from one ``numpy`` generator: a clip is reproducible from its seed.
Arrays of one clip (T frames), all float32 unless noted:

* inputs: ``keypoints (T, 17, 2)`` COCO-17 in crop coordinates (0..1 across the flow crop),
  ``confidence (T, 17)``, ``occluded (T,)`` bool, ``flow (T, 32, 32, 2)`` float16 crop widths/frame;
* truth: ``rotations (T, 24, 4)`` xyzw — joint 0 the pelvis in the camera frame (x right, y down,
  z forward), the others local to their parent; ``betas (10,)``; ``joints (T, 24, 3)`` m camera
  frame relative to the pelvis; ``joints2d (T, 24, 2)`` crop coordinates; ``crop_focal (T,)``
  focal length in crop widths; ``pelvis_depth (T,)`` m.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from characters import rotations as rot
from lifter_research.body_model import NUM_BETAS, offsets_for
from lifter_research.mocap_library import MocapClip
from lifter_research.pose_augment import body_turns, joint_noise, limb_poses, swap_part, torso_bends
from lifter_research.synthetic_render import Look, draw_region
from pose_estimation.camera import BOX_SMOOTHING, square_box  # the front end's person-box smoothing, reproduced
from pose_estimation.flow import CropFlow, FlowOptions
from retargeting.smpl import SMPL_JOINTS, SMPL_PARENTS

J = {n: i for i, n in enumerate(SMPL_JOINTS)}
COCO_FROM_SMPL = {5: "left_shoulder", 6: "right_shoulder", 7: "left_elbow", 8: "right_elbow", 9: "left_wrist", 10: "right_wrist",
                  11: "left_hip", 12: "right_hip", 13: "left_knee", 14: "right_knee", 15: "left_ankle", 16: "right_ankle"}
# Face keypoints in the head joint's frame (m; SMPL rest: x left, y up, z forward).
FACE_OFFSETS = np.array([[0.0, 0.02, 0.11], [0.035, 0.05, 0.09], [-0.035, 0.05, 0.09], [0.075, 0.03, 0.0], [-0.075, 0.03, 0.0]])
COCO_MIRROR_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
DRAW_MARGIN = 1.3  # each frame is drawn over its crop region widened by this factor


@dataclass(frozen=True)
class SyntheticOptions:
    frames: int = 64
    """Frames per clip (at 30 frames/s of the mocap, before the speed change)."""
    moving_background: bool = True
    """A handheld camera that follows the person and shakes (False: a tripod, still background)."""
    occluders: bool = True
    """Objects fixed to the scene that hide parts of the body in about half of the clips."""
    total_occlusion: bool = True
    """Chunks of 3-12 frames with no person (flag channel) in about a third of the clips."""
    speed_range: tuple[float, float] = (0.25, 1.4)
    """Playback speed, log-uniform: below 0.5 covers slow motions filmed at 60 frames/s."""
    part_swap: float = 0.0
    """Probability that the upper body, the arms, one arm, the legs or one leg move as in a second clip (``pose_augment``)."""
    joint_noise: float = 0.0
    """Standard deviation (rad) of a slowly varying random turn of every body joint (0: none)."""
    limb_poses: float = 0.0
    """Probability that arms and legs move toward random anatomically possible poses (``pose_augment.limb_poses``)."""
    torso_bends: float = 0.0
    """Probability that the torso bends forward, sideways and twists on top of the clip's spine (``pose_augment.torso_bends``)."""
    body_turns: float = 0.0
    """Probability that the whole body spins about the vertical at a smoothly varying rate, up to
    1.5 turns/s either way (``pose_augment.body_turns``): the library has few turning motions."""
    camera_distance: tuple[float, float] = (2.0, 8.0)
    """m, horizontal distance from the camera to the middle of the person's path (uniform)."""
    camera_height: tuple[float, float] = (0.3, 2.8)
    """m above the floor (uniform): from a phone held low to one on a shelf looking down about 40°."""


def world_joints(rotations: np.ndarray, pelvis: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """``(T, 24, 3)`` m world joint positions from world joint rotations ``(T, 24, 4)`` and pelvis ``(T, 3)``."""
    offsets = offsets_for(betas)
    out = np.empty(rotations.shape[:2] + (3,))
    out[:, 0] = pelvis
    for j in range(1, 24):
        p = SMPL_PARENTS[j]
        out[:, j] = out[:, p] + rot.rotate(rotations[:, p], np.broadcast_to(offsets[j], (len(pelvis), 3)))
    return out


def coco_points(joints: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """``(T, 17, 3)`` COCO-17 points from SMPL joints ``(T, 24, 3)`` and world rotations ``(T, 24, 4)``."""
    out = np.empty((joints.shape[0], 17, 3))
    head = rotations[:, J["head"]]
    for k in range(5):
        out[:, k] = joints[:, J["head"]] + rot.rotate(head, np.broadcast_to(FACE_OFFSETS[k], (len(joints), 3)))
    for k, name in COCO_FROM_SMPL.items():
        out[:, k] = joints[:, J[name]]
    return out


def look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` world -> camera rotations (OpenCV axes) of cameras at ``position`` looking at ``target (T, 3)``."""
    forward = target - position
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(forward, right)
    return np.stack([right, down, forward], axis=-2)


def _smooth_walk(rng: np.random.Generator, n: int, sigma: float, smooth: float) -> np.ndarray:
    """``(n,)`` a random walk with steps ``sigma``, low-passed over ``smooth`` frames."""
    walk = np.cumsum(rng.normal(scale=sigma, size=n + 20))
    kernel = np.exp(-0.5 * (np.arange(-20, 21) / smooth) ** 2)
    return np.convolve(walk, kernel / kernel.sum(), mode="same")[10 : 10 + n]


def _camera_path(rng: np.random.Generator, pelvis: np.ndarray, options: SyntheticOptions) -> tuple[np.ndarray, np.ndarray]:
    """Camera position ``(3,)`` and ``(T, 3, 3)`` world -> camera rotations."""
    n = len(pelvis)
    centre = pelvis.mean(axis=0)
    azimuth = rng.uniform(0, 2 * np.pi)
    distance = rng.uniform(*options.camera_distance)
    height = rng.uniform(*options.camera_height)
    position = centre + distance * np.array([np.sin(azimuth), 0.0, np.cos(azimuth)])
    position[1] = height
    if not options.moving_background:
        aim = centre + np.array([0.0, rng.uniform(-0.3, 0.2), 0.0]) + rng.normal(scale=0.15, size=3)
        return position, np.repeat(look_at(position, aim[None]), n, axis=0)
    lag = rng.uniform(1, 8)  # frames: the operator follows the person late
    kernel = np.exp(-np.arange(int(4 * lag) + 1) / lag)
    padded = np.concatenate([np.repeat(pelvis[:1], len(kernel) - 1, axis=0), pelvis])
    followed = np.stack([np.convolve(padded[:, k], kernel / kernel.sum(), mode="valid") for k in range(3)], axis=-1)
    rotations = look_at(position, followed)
    shake = np.stack([_smooth_walk(rng, n, rng.uniform(0.0003, 0.003), 3.0) for _ in range(3)], axis=-1)  # rad
    return position, rot.to_matrix(rot.from_axis_angle(shake)) @ rotations


def _detector_noise(rng: np.random.Generator, clean: np.ndarray, box_h: np.ndarray) -> np.ndarray:
    """Noisy copy of pixel keypoints ``(T, 17, 2)``: jitter, slow drift, outliers, left/right swaps."""
    n = len(clean)
    scale = box_h[:, None, None]
    noisy = clean + rng.normal(scale=0.012, size=clean.shape) * scale
    drift = np.stack([np.stack([_smooth_walk(rng, n, 0.003, 4.0) for _ in range(2)], -1) for _ in range(17)], 1)
    noisy += drift * scale
    outliers = rng.random((n, 17)) < 0.02
    noisy[outliers] += rng.normal(scale=0.08, size=(outliers.sum(), 2)) * np.repeat(box_h, 17).reshape(n, 17)[outliers][:, None]
    swap_start = np.flatnonzero(rng.random(n) < 0.01)
    for s in swap_start:
        stop = min(n, s + int(rng.integers(2, 9)))
        pairs = [(13, 14), (15, 16)] if rng.random() < 0.7 else COCO_MIRROR_PAIRS[2:5]
        for a, b in pairs:
            noisy[s:stop, [a, b]] = noisy[s:stop, [b, a]]
    return noisy


def _pick_source(clips: list[MocapClip], rng: np.random.Generator, options: SyntheticOptions) -> tuple[int, float]:
    """Which of ``clips`` a motion is drawn from, and its playback speed."""
    speed = float(np.exp(rng.uniform(*np.log(options.speed_range))))
    # Clips are drawn with probability growing as the square root of their length: the long
    # walks do not crowd out the short, varied clips (kicks, dances, jumps).
    weights = np.sqrt(np.array([c.num_frames for c in clips], dtype=float))
    return int(rng.choice(len(clips), p=weights / weights.sum())), speed


def clip_sources(clips: list[MocapClip], seed: int, count: int, options: SyntheticOptions = SyntheticOptions()) -> list[str]:
    """The mocap clip each of a dataset's first ``count`` synthetic clips was made from (its main
    motion: a part swap's donor is not named), replayed from the dataset's seed."""
    return [clips[_pick_source(clips, np.random.default_rng([seed, i]), options)[0]].name for i in range(count)]


def _draw_motion(clips: list[MocapClip], rng: np.random.Generator, n: int, options: SyntheticOptions) -> tuple[np.ndarray, np.ndarray]:
    """``n`` frames of a random clip, mirrored half the time, at a random speed: world rotations ``(n, 24, 4)`` and pelvis ``(n, 3)``."""
    index, speed = _pick_source(clips, rng, options)
    clip = clips[index]
    if rng.random() < 0.5:
        clip = clip.mirrored()
    clip = clip.retimed(speed)
    while clip.num_frames < n:  # short clips: play them back and forth
        back = MocapClip(clip.name, clip.rotations[::-1], clip.pelvis[::-1])
        clip = MocapClip(clip.name, np.concatenate([clip.rotations, back.rotations[1:]]), np.concatenate([clip.pelvis, back.pelvis[1:]]))
    start = int(rng.integers(0, clip.num_frames - n + 1))
    return clip.rotations[start : start + n].astype(float), clip.pelvis[start : start + n].astype(float)


def synthetic_clip(clips: list[MocapClip], rng: np.random.Generator, options: SyntheticOptions = SyntheticOptions()) -> dict[str, np.ndarray]:
    """One synthetic clip (see the module docstring for its arrays)."""
    n = options.frames
    world_rot, pelvis = _draw_motion(clips, rng, n, options)
    if options.part_swap and rng.random() < options.part_swap:
        world_rot = swap_part(rng, world_rot, _draw_motion(clips, rng, n, options)[0])
    if options.limb_poses and rng.random() < options.limb_poses:
        world_rot = limb_poses(rng, world_rot)
    if options.torso_bends and rng.random() < options.torso_bends:
        world_rot = torso_bends(rng, world_rot)
    if options.joint_noise:
        world_rot = joint_noise(rng, world_rot, options.joint_noise)
    if options.body_turns and rng.random() < options.body_turns:
        world_rot = body_turns(rng, world_rot)
    turn = rot.about_axis(np.array([0.0, 1.0, 0.0]), rng.uniform(0, 2 * np.pi))  # the walk's direction
    world_rot = rot.multiply(np.broadcast_to(turn, world_rot.shape), world_rot)
    pelvis = rot.rotate(turn, pelvis)
    betas = rng.normal(size=NUM_BETAS)
    joints_w = world_joints(world_rot, pelvis, betas)
    coco_w = coco_points(joints_w, world_rot)

    position, cam_r = _camera_path(rng, pelvis, options)
    portrait = rng.random() < 0.6
    image = np.array([1080.0, 1920.0]) if portrait else np.array([1920.0, 1080.0])
    focal = rng.uniform(0.7, 1.4) * image.max()
    centre = image / 2

    def to_camera(points: np.ndarray) -> np.ndarray:
        return np.einsum("tij,tkj->tki", cam_r, points - position)

    joints_c, coco_c = to_camera(joints_w), to_camera(coco_w)
    head_top = to_camera(joints_w[:, [J["head"]]] + np.array([0.0, 0.12, 0.0]))
    project = lambda p: focal * p[..., :2] / p[..., 2:3] + centre  # noqa: E731
    coco_px = project(coco_c)
    outline = np.concatenate([project(joints_c), coco_px, project(head_top)], axis=1)
    box = np.concatenate([outline.min(axis=1), outline.max(axis=1)], axis=1)
    box_h = box[:, 3] - box[:, 1]
    noisy = _detector_noise(rng, coco_px, box_h)
    confidence = rng.uniform(0.75, 1.0, size=(n, 17))

    occluded = np.zeros(n, dtype=bool)
    if options.total_occlusion and rng.random() < 0.33:
        length = int(rng.integers(3, 13))
        s = int(rng.integers(0, n - length))
        occluded[s : s + length] = True
    look = Look.random(rng)
    if options.occluders and rng.random() < 0.5:
        person_rad = 1.7 / max(float(np.median(joints_c[:, 0, 2])), 0.5)
        for _ in range(int(rng.integers(1, 4))):
            t = int(rng.integers(n))
            aim = joints_c[t, 0] + rng.normal(scale=0.35, size=3) * np.array([1.0, 1.5, 0.0])
            look.add_occluder(rng, aim @ cam_r[t], person_rad * rng.uniform(0.15, 0.5))

    flow_options = FlowOptions()
    flows = np.zeros((n, flow_options.cells, flow_options.cells, 2), np.float16)
    kp_crop = np.zeros((n, 17, 2))
    joints2d = np.zeros((n, 24, 2))
    regions = np.zeros((n, 4))
    flow = CropFlow(flow_options)
    drawn_size = int(round(flow_options.size * DRAW_MARGIN))
    previous: tuple[np.ndarray, np.ndarray] | None = None  # the last frame drawn and its region
    smoothed = None
    for t in range(n):
        if occluded[t]:
            smoothed, previous = None, None
            continue
        smoothed = box[t] if smoothed is None else BOX_SMOOTHING * smoothed + (1 - BOX_SMOOTHING) * box[t]
        region = square_box(smoothed)
        regions[t] = region
        side = region[2] - region[0]
        kp_crop[t] = (noisy[t] - region[:2]) / side
        joints2d[t] = (project(joints_c[t]) - region[:2]) / side
        # Each frame is drawn once over a region a little larger than its crop; the flow's two
        # crops (frames t-1 and t inside region t) are cut from those drawings.
        wide = _widened(region, DRAW_MARGIN)
        drawn = draw_region(look, joints_c[t], cam_r[t], wide, drawn_size, focal, centre, options.occluders)
        if previous is not None:
            flows[t] = flow.between(_recrop(*previous, region, flow_options.size), _recrop(drawn, wide, region, flow_options.size))
        previous = (drawn, wide)
        if look.occluder_mask.any():
            confidence[t] = np.where(_hidden(look, coco_c[t], cam_r[t]), rng.uniform(0.05, 0.4, 17), confidence[t])
    hidden = confidence < 0.45
    kp_crop[hidden] += rng.normal(scale=0.05, size=(hidden.sum(), 2))
    kp_crop[occluded] = 0.0
    confidence[occluded] = 0.0

    pelvis_rot_c = rot.multiply(rot.from_matrix(cam_r), world_rot[:, 0])
    local = np.empty_like(world_rot)
    local[:, 0] = pelvis_rot_c
    local[:, 1:] = rot.multiply(rot.conjugate(world_rot[:, SMPL_PARENTS[1:]]), world_rot[:, 1:])
    side = np.maximum(regions[:, 2] - regions[:, 0], 1e-6)
    return {
        "keypoints": kp_crop.astype(np.float32),
        "confidence": confidence.astype(np.float32),
        "occluded": occluded,
        "flow": flows,
        "rotations": local.astype(np.float32),
        "betas": betas.astype(np.float32),
        "joints": (joints_c - joints_c[:, :1]).astype(np.float32),
        "joints2d": joints2d.astype(np.float32),
        "crop_focal": np.where(occluded, 0.0, focal / side).astype(np.float32),
        "pelvis_depth": joints_c[:, 0, 2].astype(np.float32),
    }


def _widened(region: np.ndarray, factor: float) -> np.ndarray:
    centre = 0.5 * (region[:2] + region[2:])
    half = 0.5 * factor * (region[2] - region[0])
    return np.concatenate([centre - half, centre + half])


def _recrop(image: np.ndarray, image_region: np.ndarray, region: np.ndarray, size: int) -> np.ndarray:
    """``(size, size)`` uint8: the part ``region`` of ``image``, which shows ``image_region`` (virtual-image px)."""
    scale = image.shape[0] / (image_region[2] - image_region[0])
    x0, y0 = (region[:2] - image_region[:2]) * scale
    k = size / ((region[2] - region[0]) * scale)
    affine = np.array([[k, 0, -x0 * k], [0, k, -y0 * k]])
    return cv2.warpAffine(image, affine, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _hidden(look: Look, points_cam: np.ndarray, camera_rot: np.ndarray) -> np.ndarray:
    """``(K,)`` bool: which camera-frame points lie behind an occluder of ``look``."""
    s = look.occluder_mask.shape[0]
    xy = look.canvas_xy(points_cam @ camera_rot).astype(int) % s
    return look.occluder_mask[xy[:, 1], xy[:, 0]] > 0
