"""What a BVH file does not say, read from its motion: lead-in, rest pose, limb twist, flat feet, translation unit.

Retargeting (:mod:`retargeting.transfer`) aligns the SMPL rest pose to the source's rest pose.
A BVH file's rest pose is its OFFSETs with zero rotations, which is a human pose only when the
exporter wrote world-aligned offsets (CMU, cgspeed, DAZ, Mixamo). Rigs exported with
bone-local offsets (Reallusion CC3: every bone along its parent's +Y) have a straight stick as
rest pose; their human poses exist only in the motion. :func:`calibrate` therefore

* drops a *lead-in*: conversions that prepend a T-pose (cgspeed's DAZ files, MakeHuman, some
  CMU conversions) jump or blend from it to the first captured pose within a few frames;
* takes a T-pose first frame as the rest pose (:func:`rebase`); otherwise, if the OFFSET rest
  pose is not a standing human, the clip's most upright standing frame;
* rescales the root position channel when it is in another unit than the OFFSETs
  (:func:`translation_scale`).

A rest pose fixes bone directions but not how each limb is twisted about them, nor whether the
feet are flat: a T-pose does the first by convention, a standing frame does neither.
:func:`observed_hinge_normal` reads the plane a knee or elbow bends in from the motion and
:func:`frame_alignment` builds the alignment that puts SMPL's hinge in that plane;
:func:`flat_foot_up` reads how the ankle is turned while the foot stands flat (both used by
:mod:`retargeting.bvh_import`).

Joints are named by their SMPL role (``{"left_hip": index, ...}``, from the joint map). World
directions are Y up, as BVH files are read (:mod:`retargeting.bvh`); lengths in file units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from characters import rotations as rot
from characters.skeleton import Skeleton
from retargeting.bvh import BvhClip

UP = np.array([0.0, 1.0, 0.0])
LEG_BONES = (("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"))
ARM_BONES = (("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"))
T_POSE_TOLERANCE_DEG = 15.0
"""deg: how far from horizontal each arm bone of a T-pose may point (twice that from sideways,
and the legs from vertical)."""
STANDING_TOLERANCE_DEG = 30.0
"""deg: how far from vertical the legs and the spine of a standing rest pose may be."""

# Limbs whose middle joint is a hinge: (upper joint, hinge joint, end joint, hinge normal in the
# body frame (left, up, forward)). The normal is cross(upper bone, lower bone) once the limb
# bends: knees bend backwards, elbows forwards from a T-pose (palms down).
HINGES = (
    ("left_hip", "left_knee", "left_ankle", (1.0, 0.0, 0.0)),
    ("right_hip", "right_knee", "right_ankle", (1.0, 0.0, 0.0)),
    ("left_shoulder", "left_elbow", "left_wrist", (0.0, -1.0, 0.0)),
    ("right_shoulder", "right_elbow", "right_wrist", (0.0, 1.0, 0.0)),
)


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` read from a clip."""

    lead_in: int
    """Frames dropped from the start."""
    rest: str
    """Where the rest pose came from: ``"offsets"``, ``"t-pose first frame"`` or ``"standing frame N"``
    (N counted in the file's frames)."""
    translation_scale: float
    """Factor applied to the root position channel (1 unless its unit differs from the OFFSETs')."""


def rebase(clip: BvhClip, frame: int) -> BvhClip:
    """The same motion on a skeleton whose rest pose is the pose of frame ``frame``.

    With ``G0_j`` and ``p0_j`` the world rotations and positions of frame ``frame``, the new
    skeleton has identity rest rotations and offsets ``p0_j - p0_parent`` (world axes, file
    units; the root's offset is ``p0_root``), and the world rotations become
    ``G'_j(t) = G_j(t) * conj(G0_j)``, so frame ``frame`` has identity local rotations and
    every frame keeps its joint positions. End Site offsets turn with their joint.

    Args:
        clip: ``local_rot (T, J, 4)``, ``root_pos (T, 3)`` on ``clip.skeleton``.
        frame: index of the new rest pose, ``0 <= frame < T``.
    Returns:
        a :class:`BvhClip` with the same ``root_pos`` and frame time.
    """
    skeleton = clip.skeleton
    positions, world = skeleton.forward_kinematics(clip.root_pos, clip.local_rot)  # (T, J, 3), (T, J, 4)
    p0, g0 = positions[frame], world[frame]
    parents = np.asarray(skeleton.parents)
    is_root = parents < 0
    parent = np.maximum(parents, 0)
    offsets = np.where(is_root[:, None], p0, p0 - p0[parent])
    new_world = rot.multiply(world, rot.conjugate(g0))
    parent_world = np.where(is_root[None, :, None], rot.identity((1, len(parents))), new_world[:, parent])
    local = rot.normalize(rot.multiply(rot.conjugate(parent_world), new_world))
    rebased = Skeleton(skeleton.names, parents.copy(), offsets)
    end_sites = {j: rot.rotate(g0[j], offset) for j, offset in clip.end_sites.items()}
    return BvhClip(rebased, clip.root_pos.copy(), local, clip.frame_time, end_sites)


def lead_in_frames(world_rot: np.ndarray, frame_time: float, jump: float = 5.0, max_seconds: float = 0.25) -> int:
    """Number of frames before the captured motion starts: 0, or the length of a lead-in.

    A lead-in is a first frame joined to the next by a jump the captured motion does not make
    (the fastest joint turns by more than ``jump`` times the clip's median step and more than
    15 deg), followed by the frames blending away from it, until the step is back below twice
    the median (at most ``max_seconds``).

    Args:
        world_rot: ``(T, J, 4)`` world rotations of the joints to watch (the mapped ones).
        frame_time: s per frame.
        jump: 5 when nothing else marks frame 0 as foreign; 3 when it is a T-pose.
    """
    frames = world_rot.shape[0]
    if frames < 3:
        return 0
    steps = rot.geodesic_angle(world_rot[1:], world_rot[:-1]).max(axis=1)  # (T-1,) rad, fastest joint
    typical = float(np.median(steps))
    if steps[0] <= max(jump * typical, np.radians(15.0)):
        return 0
    limit = int(min(frames - 2, max(1, round(max_seconds / frame_time))))
    settled = np.flatnonzero(steps[1 : limit + 1] <= 2.0 * typical)
    return int(settled[0]) + 1 if settled.size else 1


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _bone_angles(positions: np.ndarray, joints: dict[str, int], bones: tuple[tuple[str, str], ...], direction: np.ndarray) -> np.ndarray:
    """``(..., B)`` rad, angle between each bone ``(a, b)`` (from joint a to b) of ``positions (..., J, 3)`` and ``direction``."""
    vectors = np.stack([positions[..., joints[b], :] - positions[..., joints[a], :] for a, b in bones], axis=-2)
    return np.arccos(np.clip(np.sum(_unit(vectors) * _unit(direction), axis=-1), -1.0, 1.0))


def _spine_angle(positions: np.ndarray, joints: dict[str, int]) -> np.ndarray:
    """``(...)`` rad, angle between the pelvis-to-chest line of ``positions (..., J, 3)`` and up."""
    top = next(joints[j] for j in ("spine3", "neck", "spine2", "spine1") if j in joints)
    spine = positions[..., top, :] - positions[..., joints["pelvis"], :]
    return np.arccos(np.clip(_unit(spine) @ UP, -1.0, 1.0))


def is_t_pose(positions: np.ndarray, joints: dict[str, int]) -> bool:
    """Is the pose ``(J, 3)`` a T-pose (Y up): legs down, and each upper arm (and forearm, when
    the wrists are mapped) within ``T_POSE_TOLERANCE_DEG`` of horizontal and within twice that
    of the body's sideways direction?"""
    lateral = positions[joints["left_hip"]] - positions[joints["right_hip"]]
    lateral = lateral - UP * (lateral @ UP)
    bones = tuple(b for b in ARM_BONES if b[1] in joints)
    outward = np.stack([lateral if a.startswith("left") else -lateral for a, _ in bones])  # (B, 3)
    vectors = _unit(np.stack([positions[joints[b]] - positions[joints[a]] for a, b in bones]))
    elevation = np.arcsin(np.clip(vectors @ UP, -1.0, 1.0))
    heading = np.sum(_unit(vectors - np.outer(vectors @ UP, UP)) * _unit(outward), axis=-1)  # cos
    legs = _bone_angles(positions, joints, LEG_BONES, -UP)
    tolerance = np.radians(T_POSE_TOLERANCE_DEG)
    return bool(np.all(np.abs(elevation) < tolerance) and np.all(heading > np.cos(2 * tolerance)) and np.all(legs < 2 * tolerance))


def is_standing(positions: np.ndarray, joints: dict[str, int]) -> bool:
    """Does the pose ``(J, 3)`` stand upright: thighs and shins down, pelvis-to-chest up (Y up)?"""
    tolerance = np.radians(STANDING_TOLERANCE_DEG)
    return bool(np.all(_bone_angles(positions, joints, LEG_BONES, -UP) < tolerance) and _spine_angle(positions, joints) < tolerance)


def standing_frame(positions: np.ndarray, joints: dict[str, int]) -> int:
    """Index of the most upright frame of ``positions (T, J, 3)``: straight vertical legs and
    spine, arms hanging (the arms count half, as they rarely hang straight)."""
    legs = _bone_angles(positions, joints, LEG_BONES, -UP).sum(axis=-1)
    arms = _bone_angles(positions, joints, tuple(b for b in ARM_BONES if b[1] in joints), -UP).sum(axis=-1)
    return int(np.argmin(legs + 2.0 * _spine_angle(positions, joints) + 0.5 * arms))


def translation_scale(positions: np.ndarray, root_pos: np.ndarray, feet: list[int], min_gain: float = 2.0) -> float:
    """Factor for the root position channel that keeps the supporting foot still, or 1.

    Some files store the root translation in another unit than the OFFSETs (10x smaller in a
    CMU conversion), and then the feet slide even in the source. With ``k`` times the root
    channel, the lowest foot joint of each frame moves by ``|d(rel + k * root)|`` to the next
    frame; the ``k`` between 1/30 and 30 that minimises the median of that horizontal step is
    returned when it beats ``k = 1`` by ``min_gain`` or more (a clip that does not travel, or
    whose feet never stand, keeps 1).

    Args:
        positions: ``(T, J, 3)`` joint positions (file units, Y up) computed with ``root_pos``.
        root_pos: ``(T, 3)`` the root position channel.
        feet: indices of the joints that stand on the ground (ankles, and toes when mapped).
    """
    if positions.shape[0] < 3:
        return 1.0
    relative = positions[:, feet] - root_pos[:, None]  # (T, F, 3)

    def slide(k: float) -> float:
        world = relative + k * root_pos[:, None]
        lower = np.argmin(world[..., 1], axis=1)
        same = np.flatnonzero(lower[1:] == lower[:-1])
        if same.size == 0:
            return np.inf
        step = world[same + 1, lower[same]] - world[same, lower[same]]
        return float(np.median(np.linalg.norm(step[:, [0, 2]], axis=-1)))

    coarse = np.geomspace(1.0 / 30.0, 30.0, 141)  # 5% apart
    best = coarse[np.argmin([slide(k) for k in coarse])]
    fine = best * np.geomspace(1 / 1.05, 1.05, 21)
    slides = np.array([slide(k) for k in fine])
    return float(fine[np.argmin(slides)]) if slides.min() * min_gain <= slide(1.0) else 1.0


def calibrate(clip: BvhClip, joints: dict[str, int]) -> tuple[BvhClip, Calibration]:
    """Drop a lead-in, choose the rest pose and fix the root translation's unit (module docstring).

    Args:
        clip: the parsed file.
        joints: ``{SMPL joint: index in clip.skeleton}`` of the mapped joints; needs the pelvis,
            hips, knees, ankles, shoulders, elbows and a spine joint.
    Returns:
        the clip to retarget (same joint positions, up to the lead-in and the translation
        unit) and what was done to it.
    """
    positions, world = clip.skeleton.forward_kinematics(clip.root_pos, clip.local_rot)
    t_pose = is_t_pose(positions[0], joints)
    lead = lead_in_frames(world[:, sorted(set(joints.values()))], clip.frame_time, jump=3.0 if t_pose else 5.0)
    if t_pose:
        clip, rest = rebase(clip, 0), "t-pose first frame"
    elif not is_standing(clip.skeleton.rest_positions(), joints):
        frame = lead + standing_frame(positions[lead:], joints)
        clip, rest = rebase(clip, frame), f"standing frame {frame}"
    else:
        rest = "offsets"
    feet = [joints[j] for j in ("left_ankle", "right_ankle", "left_foot", "right_foot") if j in joints]
    scale = translation_scale(positions[lead:], clip.root_pos[lead:], feet)
    clip = replace(clip, root_pos=scale * clip.root_pos[lead:], local_rot=clip.local_rot[lead:])
    return clip, Calibration(lead, rest, scale)


def observed_hinge_normal(positions: np.ndarray, world_rot: np.ndarray, upper: int, hinge: int, end: int, min_bend_deg: float = 20.0) -> np.ndarray | None:
    """The normal of the plane a limb bends in, seen from its upper joint, or None if unclear.

    With ``a`` the upper bone (upper -> hinge) and ``b(t)`` the lower bone (hinge -> end), both
    in the upper joint's frame (``conj(G_upper(t))`` applied), the normal is the direction of
    ``sum_t a x b(t) / (|a| |b|)`` over the frames bent by more than ``min_bend_deg``. It is
    expressed in the rest pose's world axes (where ``G_upper`` is the identity). None when fewer
    than 5% of the frames bend that far, or when their normals disagree (no hinge).

    Args:
        positions: ``(T, J, 3)`` joint positions, world axes, any unit.
        world_rot: ``(T, J, 4)`` joint world rotations; identity in the rest pose.
        upper, hinge, end: joint indices along the limb.
    Returns:
        ``(3,)`` unit vector or None.
    """
    inverse = rot.conjugate(world_rot[:, upper])
    a = _unit(rot.rotate(inverse, positions[:, hinge] - positions[:, upper]))
    b = _unit(rot.rotate(inverse, positions[:, end] - positions[:, hinge]))
    normals = np.cross(a, b)  # (T, 3), length sin(bend)
    bent = np.linalg.norm(normals, axis=-1) > np.sin(np.radians(min_bend_deg))
    if bent.sum() < max(3, 0.05 * positions.shape[0]):
        return None
    total = normals[bent].sum(axis=0)
    if np.linalg.norm(total) < 0.8 * np.linalg.norm(normals[bent], axis=-1).sum():
        return None
    return _unit(total)


def frame_alignment(target_dir: np.ndarray, target_normal: np.ndarray, source_dir: np.ndarray, source_normal: np.ndarray) -> np.ndarray:
    """``(4,)`` rotation taking ``target_dir (3,)`` onto ``source_dir`` and the plane of
    (``target_dir``, ``target_normal``) onto that of (``source_dir``, ``source_normal``)."""

    def frame(direction: np.ndarray, normal: np.ndarray) -> np.ndarray:
        d = _unit(direction)
        n = _unit(normal - d * (normal @ d))
        return np.stack([d, n, np.cross(d, n)], axis=1)

    return rot.from_matrix(frame(source_dir, source_normal) @ frame(target_dir, target_normal).T)


def flat_foot_up(
    positions: np.ndarray, world_rot: np.ndarray, ankle: int, toe: int | None, leg: float, max_tilt_deg: float = 40.0
) -> np.ndarray | None:
    """The world's up direction seen from the ankle's frame while the foot stands flat, or None.

    A rest pose says nothing reliable about the feet: a standing frame may be on the balls of
    the feet, and exporters differ in the ankle's rest frame. A foot stands flat where the
    ankle (and the toe joint, when mapped) are within 3% of the leg's length of their lowest
    heights in the clip and the ankle is in the slower half of its speeds;
    ``conj(G_ankle(t)) * up`` averaged over those frames is where a flat foot's up must point.
    None when fewer than 2% of the frames qualify, or the answer tilts the foot by more than
    ``max_tilt_deg`` (a clip danced on the toes says nothing about flat feet).

    Args:
        positions: ``(T, J, 3)`` joint positions (Y up, file units).
        world_rot: ``(T, J, 4)`` joint world rotations.
        ankle, toe: joint indices (``toe`` None when not mapped).
        leg: hip-to-ankle length, file units.
    Returns:
        ``(3,)`` unit vector in the ankle's rest frame.
    """
    frames = positions.shape[0]
    if frames < 3:
        return None
    flat = np.ones(frames, dtype=bool)
    for joint in (ankle,) if toe is None else (ankle, toe):
        height = positions[:, joint, 1]
        flat &= height <= np.percentile(height, 2) + 0.03 * leg
    step = np.linalg.norm(np.diff(positions[:, ankle], axis=0), axis=-1)
    speed = np.minimum(np.concatenate([step[:1], step]), np.concatenate([step, step[-1:]]))  # (T,)
    flat &= speed <= np.median(speed)
    if flat.sum() < max(3, 0.02 * frames):
        return None
    up = _unit(rot.rotate(rot.conjugate(world_rot[flat, ankle]), np.broadcast_to(UP, (int(flat.sum()), 3))).mean(axis=0))
    return up if up @ UP > np.cos(np.radians(max_tilt_deg)) else None
