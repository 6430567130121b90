"""New poses from a small mocap library: body parts swapped between clips, smooth joint-angle noise.

The library holds two dozen clips, most of them walks, few of them turning. A lifter trained on them learns those
motions (45 mm PA-MPJPE on new synthetic clips of them after 55 minutes) but not new ones
(97 mm on the held-out motions). These augmentations make pose combinations the library does
not hold: the upper body, both arms, one arm, both legs or one leg of a second clip on the first
clip's body (local rotations swapped, so the parts stay attached; the pelvis and its path stay the
first clip's), every body joint turned by a slowly varying random rotation, and random limb
poses: arms and legs drawn toward anatomically possible poses the library lacks (an arm
overhead or behind the head, a leg lifted to the side), keyframed and interpolated, and torso
bends (forward, sideways, twisted) added on top of the clip's own spine, and body turns: the
whole body spinning about the vertical at a smoothly varying rate.

Rotations are ``(T, 24, 4)`` xyzw SMPL world rotations, as ``MocapClip`` holds them.
"""

from __future__ import annotations

import numpy as np

from characters import rotations as rot
from retargeting.smpl import SMPL_JOINTS, SMPL_PARENTS, SMPL_REST_OFFSETS

_J = {n: i for i, n in enumerate(SMPL_JOINTS)}
LEFT_ARM = [_J[n] for n in ("left_collar", "left_shoulder", "left_elbow", "left_wrist", "left_hand")]
RIGHT_ARM = [_J[n] for n in ("right_collar", "right_shoulder", "right_elbow", "right_wrist", "right_hand")]
UPPER_BODY = [_J[n] for n in ("spine1", "spine2", "spine3", "neck", "head")] + LEFT_ARM + RIGHT_ARM
LEFT_LEG = [_J[n] for n in ("left_hip", "left_knee", "left_ankle", "left_foot")]
RIGHT_LEG = [_J[n] for n in ("right_hip", "right_knee", "right_ankle", "right_foot")]
PARTS = (UPPER_BODY, LEFT_ARM + RIGHT_ARM, LEFT_ARM, RIGHT_ARM, LEFT_LEG + RIGHT_LEG, LEFT_LEG, RIGHT_LEG)
"""What a swap takes from the second clip (one of these, uniformly)."""


def local_from_world(world: np.ndarray) -> np.ndarray:
    """``(T, 24, 4)`` rotations relative to the parent (the pelvis keeps its world rotation)."""
    local = world.copy()
    local[:, 1:] = rot.multiply(rot.conjugate(world[:, SMPL_PARENTS[1:]]), world[:, 1:])
    return local


def world_from_local(local: np.ndarray) -> np.ndarray:
    """Inverse of :func:`local_from_world` (parents come before children in SMPL's order)."""
    world = local.copy()
    for j in range(1, local.shape[1]):
        world[:, j] = rot.multiply(world[:, SMPL_PARENTS[j]], local[:, j])
    return world


def swap_part(rng: np.random.Generator, world: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """``world`` with one of :data:`PARTS` moving as in ``donor`` (same frame count)."""
    part = PARTS[int(rng.integers(len(PARTS)))]
    local = local_from_world(world)
    local[:, part] = local_from_world(donor)[:, part]
    return world_from_local(local)


def joint_noise(rng: np.random.Generator, world: np.ndarray, amplitude: float, smooth_frames: float = 8.0) -> np.ndarray:
    """Every body joint's local rotation turned by a random rotation about a random, slowly varying
    axis; the angle's standard deviation is ``amplitude`` rad."""
    n = world.shape[0]
    pad = int(3 * smooth_frames)
    white = rng.normal(size=(n + 2 * pad, world.shape[1] - 1, 3))
    kernel = np.exp(-0.5 * (np.arange(-pad, pad + 1) / smooth_frames) ** 2)
    smooth = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), 0, white)  # (n, 23, 3)
    smooth *= amplitude / max(float(smooth.std()), 1e-9) / np.sqrt(3.0)
    local = local_from_world(world)
    local[:, 1:] = rot.multiply(local[:, 1:], rot.from_axis_angle(smooth))
    return world_from_local(local)


_X, _Y = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
_MIRROR_AXIAL = np.array([1.0, -1.0, -1.0])
"""A rotation axis (an axial vector) mirrored through the body's left-right plane (x -> -x)."""


def _random_arm_direction(rng: np.random.Generator, count: int) -> np.ndarray:
    """``(count, 3)`` left upper-arm directions in the torso frame: anywhere but deep across the
    chest or far behind the back (x out to the left, y up, z forward)."""
    out = np.empty((count, 3))
    for k in range(count):
        while True:
            d = rng.normal(size=3)
            d /= np.linalg.norm(d)
            if d[0] > -0.3 and d[2] > -0.6:
                out[k] = d
                break
    return out


def _random_leg_direction(rng: np.random.Generator, count: int) -> np.ndarray:
    """``(count, 3)`` left thigh directions: flexion -25..110° forward, abduction -20..60° outward."""
    flexion = np.radians(rng.uniform(-25.0, 110.0, size=count))
    abduction = np.radians(rng.uniform(-20.0, 60.0, size=count))
    c = np.cos(flexion)
    return np.column_stack([c * np.sin(abduction), -c * np.cos(abduction), np.sin(flexion)])


# Per limb: root joint, hinge joint, a sampler of the left-side bone direction, the left hinge axis,
# the hinge's range (deg) and the twist range (deg) about the bone.
_LIMBS = (
    ("left_shoulder", "left_elbow", _random_arm_direction, -_Y, 150.0, 70.0),
    ("left_hip", "left_knee", _random_leg_direction, _X, 140.0, 35.0),
)


def _limb_targets(rng: np.random.Generator, keys: int, side: str, limb: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations ``(keys, 4)`` of a limb's root and hinge joints at random keyframes."""
    _, hinge_name, sampler, hinge_axis, hinge_max, twist_max = limb
    rest = SMPL_REST_OFFSETS[_J[hinge_name.replace("left", side)]]  # the bone the root joint turns, in the parent's frame
    rest = rest / np.linalg.norm(rest)
    direction = sampler(rng, keys)
    if side == "right":
        direction = direction * np.array([-1.0, 1.0, 1.0])
        hinge_axis = hinge_axis * _MIRROR_AXIAL
    swing = rot.between(np.broadcast_to(rest, direction.shape), direction)
    twist = rot.about_axis(direction, np.radians(rng.uniform(-twist_max, twist_max, size=keys)))
    root = rot.multiply(twist, swing)
    hinge = rot.about_axis(np.broadcast_to(hinge_axis, (keys, 3)), np.radians(rng.uniform(0.0, hinge_max, size=keys)))
    return root, hinge


def _key_frames(rng: np.random.Generator, frames: int, key_seconds: tuple[float, float], fps: float) -> np.ndarray:
    """Frame indices (float) of keyframes one random interval of ``key_seconds`` apart, covering ``frames``."""
    step = rng.uniform(*key_seconds) * fps
    key_frames = np.arange(0.0, frames - 1 + step, step)
    return key_frames if len(key_frames) >= 2 else np.array([0.0, max(frames - 1.0, 1.0)])


def _eased(frames: int, key_frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the keyframe interval it lies in ``(frames,)`` and its eased (smoothstep) fraction."""
    t = np.arange(frames)
    k = np.clip(np.searchsorted(key_frames, t, side="right") - 1, 0, len(key_frames) - 2)
    u = np.clip((t - key_frames[k]) / (key_frames[k + 1] - key_frames[k]), 0.0, 1.0)
    return k, u * u * (3.0 - 2.0 * u)


def limb_poses(rng: np.random.Generator, world: np.ndarray, limb_probability: float = 0.6,
               key_seconds: tuple[float, float] = (0.5, 1.5), fps: float = 30.0) -> np.ndarray:
    """``world`` with each arm and leg (each with ``limb_probability``) moving toward random poses.

    A chosen limb gets a random shoulder/hip rotation (bone direction, twist) and elbow/knee bend
    every 0.5-1.5 s, eased (smoothstep) between keyframes; its hand or foot keeps the clip's motion.
    The limb replaces the clip's: blending the two by a weight below 1 takes the shorter way
    between them, which jumps when they are half a turn apart."""
    frames = world.shape[0]
    local = local_from_world(world)
    for limb in _LIMBS:
        for side in ("left", "right"):
            if rng.random() >= limb_probability:
                continue
            key_frames = _key_frames(rng, frames, key_seconds, fps)
            root, hinge = _limb_targets(rng, len(key_frames), side, limb)
            k, u = _eased(frames, key_frames)
            for joint_name, keys in ((limb[0], root), (limb[1], hinge)):
                j = _J[joint_name.replace("left", side)]
                local[:, j] = rot.slerp(keys[k], keys[k + 1], u)
    return world_from_local(local)


SPINE = [_J[n] for n in ("spine1", "spine2", "spine3")]


def torso_bends(rng: np.random.Generator, world: np.ndarray, key_seconds: tuple[float, float] = (0.5, 1.5), fps: float = 30.0) -> np.ndarray:
    """``world`` with the torso bent forward (-20..70°), sideways (±40°) and twisted (±45°) on top
    of the clip's own spine, to random targets every 0.5-1.5 s.

    The bend is a rotation vector eased between keyframes (so it never jumps) and shared equally
    by the three spine joints; the arms, neck and head ride on the torso."""
    frames = world.shape[0]
    key_frames = _key_frames(rng, frames, key_seconds, fps)
    keys = len(key_frames)
    # x: forward bend (the torso's top moves to +z), z: sideways, y: twist; degrees.
    bends = np.radians(np.column_stack([rng.uniform(-20.0, 70.0, keys), rng.uniform(-45.0, 45.0, keys), rng.uniform(-40.0, 40.0, keys)]))
    k, u = _eased(frames, key_frames)
    bend = bends[k] + (bends[k + 1] - bends[k]) * u[:, None]  # (T, 3)
    share = rot.from_axis_angle(bend / len(SPINE))
    local = local_from_world(world)
    for j in SPINE:
        local[:, j] = rot.multiply(local[:, j], share)
    return world_from_local(local)


def body_turns(rng: np.random.Generator, world: np.ndarray, max_turns_per_second: float = 1.5,
               key_seconds: tuple[float, float] = (0.5, 1.5), fps: float = 30.0) -> np.ndarray:
    """``world`` with the whole body turning about the vertical (Y) axis through the pelvis at a
    smoothly varying rate: spins, pirouettes and turning kicks on any clip.

    The rate (turns/s) takes a random value in ±``max_turns_per_second`` at keyframes
    0.5-1.5 s apart, eased between them, and is integrated into the turn angle, so the body
    never jumps. The pelvis path is left as it was (the body turns in place along it)."""
    frames = world.shape[0]
    key_frames = _key_frames(rng, frames, key_seconds, fps)
    rates = 2.0 * np.pi * rng.uniform(-max_turns_per_second, max_turns_per_second, len(key_frames))  # rad/s
    k, u = _eased(frames, key_frames)
    rate = rates[k] + (rates[k + 1] - rates[k]) * u
    angle = np.concatenate([[0.0], np.cumsum(rate[1:]) / fps])
    turn = rot.about_axis(np.broadcast_to(_Y, (frames, 3)), angle)
    return rot.multiply(np.broadcast_to(turn[:, None], world.shape), world)
