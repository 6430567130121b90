"""New poses from a small mocap library: body parts swapped between clips, smooth joint-angle noise.

The library holds two dozen clips, most of them walks. A lifter trained on them learns those
motions (45 mm PA-MPJPE on new synthetic clips of them after 55 minutes) but not new ones
(97 mm on the held-out motions). These augmentations make pose combinations the library does
not hold: the upper body, both arms, one arm, both legs or one leg of a second clip on the first
clip's body (local rotations swapped, so the parts stay attached; the pelvis and its path stay the
first clip's), and every body joint turned by a slowly varying
random rotation.

Rotations are ``(T, 24, 4)`` xyzw SMPL world rotations, as ``MocapClip`` holds them.
"""

from __future__ import annotations

import numpy as np

from characters import rotations as rot
from retargeting.smpl import SMPL_JOINTS, SMPL_PARENTS

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
