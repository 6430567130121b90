"""BVH mocap -> :class:`SmplMotion`, through a joint-name map with rest-pose alignment.

Built-in maps cover the CMU skeleton under its names in the wild (MotionBuilder/cgspeed,
the original ASF bone names, lowercase ``lhip``/``lknee``, ASF-style as in ``131_01.bvh``),
cgspeed's DAZ-friendly files, Reallusion CC3, MakeHuman, Mixamo and vidmimic's own exports;
a user map is a JSON object ``{smpl_joint: bvh_joint}``. Names are compared
case-insensitively, without a ``namespace:`` prefix. The map must cover the pelvis, hips,
knees, ankles, shoulders, elbows and at least one spine joint; other SMPL joints it leaves out
keep identity local rotations. What the file does not state (a T-pose lead-in, a rest pose
that is not a human pose, the twist of the limbs, a root translation in another unit) is read
from the motion by :mod:`retargeting.bvh_calibration`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import input_error
from characters.skeleton import Skeleton
from retargeting.bvh import BvhClip, read_bvh
from retargeting.bvh_calibration import HINGES, calibrate, flat_foot_up, frame_alignment, observed_hinge_normal
from retargeting.smpl import SmplMotion, smpl_skeleton
from retargeting.transfer import Correspondence, build_correspondences, transfer_global_rotations

REQUIRED = (
    "pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
)

# How each SMPL joint's rest pose is aligned to the source's (see retargeting.transfer).
ALIGNMENT = {
    "pelvis": "facing", "spine1": "facing", "spine2": "facing", "spine3": "facing", "neck": "facing", "head": "facing",
    "left_hip": "bone", "right_hip": "bone", "left_knee": "bone", "right_knee": "bone",
    "left_ankle": "facing", "right_ankle": "facing", "left_foot": "parent", "right_foot": "parent",
    "left_collar": "bone", "right_collar": "bone", "left_shoulder": "bone", "right_shoulder": "bone",
    "left_elbow": "bone", "right_elbow": "bone", "left_wrist": "parent", "right_wrist": "parent",
    "left_hand": "parent", "right_hand": "parent",
}


def _sided(template: dict[str, str]) -> dict[str, str]:
    """Expand ``{"{s}_hip": "{S}Hip"}`` into left/right entries.

    In SMPL names ``{s}`` is left/right; in BVH names ``{s}`` is left/right, ``{S}`` Left/Right,
    ``{l}`` l/r and ``{L}`` L/R.
    """
    out = {}
    for smpl, bvh in template.items():
        if "{s}" in smpl:
            for side, cap, letter in (("left", "Left", "l"), ("right", "Right", "r")):
                out[smpl.format(s=side)] = bvh.format(s=side, S=cap, l=letter, L=letter.upper())
        else:
            out[smpl] = bvh
    return out


JOINT_MAPS: dict[str, dict[str, str]] = {
    "cmu": _sided({
        "pelvis": "Hips", "spine1": "lowerback", "spine2": "Chest", "spine3": "Chest2", "neck": "Neck", "head": "Head",
        "{s}_hip": "{S}Hip", "{s}_knee": "{S}Knee", "{s}_ankle": "{S}Ankle", "{s}_foot": "{S}Toe",
        "{s}_collar": "{S}Collar", "{s}_shoulder": "{S}Shoulder", "{s}_elbow": "{S}Elbow", "{s}_wrist": "{S}Wrist",
    }),
    "cmu_cgspeed": _sided({
        "pelvis": "Hips", "spine1": "LowerBack", "spine2": "Spine", "spine3": "Spine1", "neck": "Neck", "head": "Head",
        "{s}_hip": "{S}UpLeg", "{s}_knee": "{S}Leg", "{s}_ankle": "{S}Foot", "{s}_foot": "{S}ToeBase",
        "{s}_collar": "{S}Shoulder", "{s}_shoulder": "{S}Arm", "{s}_elbow": "{S}ForeArm", "{s}_wrist": "{S}Hand",
    }),
    # vidmimic's own exports: SMPL-skeleton BVH and humanoid3d BVH.
    "smpl": {j: j for j in ALIGNMENT},
    "humanoid3d": _sided({
        "pelvis": "root", "spine3": "chest", "head": "neck", "{s}_hip": "{s}_hip", "{s}_knee": "{s}_knee",
        "{s}_ankle": "{s}_ankle", "{s}_shoulder": "{s}_shoulder", "{s}_elbow": "{s}_elbow", "{s}_wrist": "{s}_wrist",
    }),
    "mixamo": _sided({
        "pelvis": "Hips", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck", "head": "Head",
        "{s}_hip": "{S}UpLeg", "{s}_knee": "{S}Leg", "{s}_ankle": "{S}Foot", "{s}_foot": "{S}ToeBase",
        "{s}_collar": "{S}Shoulder", "{s}_shoulder": "{S}Arm", "{s}_elbow": "{S}ForeArm", "{s}_wrist": "{S}Hand",
    }),
    # cgspeed's "DAZ-friendly" CMU conversion (no toe joint).
    "daz": _sided({
        "pelvis": "hip", "spine1": "abdomen", "spine3": "chest", "neck": "neck", "head": "head",
        "{s}_hip": "{l}Thigh", "{s}_knee": "{l}Shin", "{s}_ankle": "{l}Foot",
        "{s}_collar": "{l}Collar", "{s}_shoulder": "{l}Shldr", "{s}_elbow": "{l}ForeArm", "{s}_wrist": "{l}Hand",
    }),
    # Reallusion Character Creator 3 (iClone); twist, share and finger bones stay unmapped.
    "cc3": _sided({
        "pelvis": "CC_Base_Pelvis", "spine1": "CC_Base_Waist", "spine2": "CC_Base_Spine01", "spine3": "CC_Base_Spine02",
        "neck": "CC_Base_NeckTwist01", "head": "CC_Base_Head",
        "{s}_hip": "CC_Base_{L}_Thigh", "{s}_knee": "CC_Base_{L}_Calf", "{s}_ankle": "CC_Base_{L}_Foot",
        "{s}_foot": "CC_Base_{L}_ToeBase", "{s}_collar": "CC_Base_{L}_Clavicle", "{s}_shoulder": "CC_Base_{L}_Upperarm",
        "{s}_elbow": "CC_Base_{L}_Forearm", "{s}_wrist": "CC_Base_{L}_Hand",
    }),
    # The CMU ASF bone names, as amc2bvh writes them.
    "cmu_asf": _sided({
        "pelvis": "hip", "spine1": "lowerback", "spine2": "upperback", "spine3": "thorax", "neck": "lowerneck", "head": "head",
        "{s}_hip": "{l}femur", "{s}_knee": "{l}tibia", "{s}_ankle": "{l}foot", "{s}_foot": "{l}toes",
        "{s}_collar": "{l}clavicle", "{s}_shoulder": "{l}humerus", "{s}_elbow": "{l}radius", "{s}_wrist": "{l}wrist",
    }),
    # MakeHuman's default skeleton ("lhip" is the thigh joint, as in "cmu_lowercase").
    "makehuman": _sided({
        "pelvis": "hip", "spine1": "abdomen", "spine3": "chest", "neck": "neck", "head": "head",
        "{s}_hip": "{l}hip", "{s}_knee": "{l}knee", "{s}_ankle": "{l}foot",
        "{s}_collar": "{l}collar", "{s}_shoulder": "{l}shoulder", "{s}_elbow": "{l}elbow", "{s}_wrist": "{l}hand",
    }),
    # CMU skeleton with lowercase joint names (hip, lhipjoint, lhip, lknee, ..., lowerback, abdomen, chest).
    "cmu_lowercase": _sided({
        "pelvis": "hip", "spine1": "lowerback", "spine2": "abdomen", "spine3": "chest", "neck": "neck", "head": "head",
        "{s}_hip": "{l}hip", "{s}_knee": "{l}knee", "{s}_ankle": "{l}foot", "{s}_foot": "{s}toebase",
        "{s}_collar": "{l}collar", "{s}_shoulder": "{l}shoulder", "{s}_elbow": "{l}elbow", "{s}_wrist": "{l}hand",
    }),
}


EXACT_REST = ("smpl", "humanoid3d")
"""Built-in maps whose files' rest pose is exactly SMPL's or the character's (vidmimic's own
exports): imported as they are, without :func:`retargeting.bvh_calibration.calibrate` or
:func:`_refine_alignments`, so an export imports back unchanged."""


def _plain(name: str) -> str:
    return name.rsplit(":", 1)[-1].lower()


def best_joint_map(path: Path, clip: BvhClip, joint_map: dict[str, str] | None) -> tuple[str | None, dict[str, str]]:
    """The name of the built-in map that fits (None for ``joint_map``) and ``{smpl joint: BVH
    joint name as in the file}``.

    The built-in map that names the most joints of the file wins; among equals, the one with
    fewer names the file lacks (so a map written for this skeleton beats a look-alike).
    """
    present = {_plain(n): n for n in clip.skeleton.names}
    candidates = {None: joint_map} if joint_map is not None else dict(JOINT_MAPS)
    best: tuple[str | None, dict[str, str]] | None = None
    best_rank = (-1, 0)
    fewest_missing: list[str] | None = None
    for name, mapping in candidates.items():
        unknown_smpl = sorted(set(mapping) - set(ALIGNMENT))
        if unknown_smpl:
            raise input_error(path, f"joint map names unknown SMPL joints {unknown_smpl}")
        missing = [mapping.get(j, j) for j in REQUIRED if _plain(mapping.get(j, "")) not in present]
        found = {smpl: present[_plain(b)] for smpl, b in mapping.items() if _plain(b) in present}
        rank = (len(found), len(found) - len(mapping))
        if not missing and rank > best_rank:
            best, best_rank = (name, found), rank
        if fewest_missing is None or len(missing) < len(fewest_missing):
            fewest_missing = missing
    if best is not None:
        return best
    raise input_error(
        path,
        f"unknown BVH joints: the skeleton matches no joint map (missing {', '.join(fewest_missing or [])}); "
        "pass a JSON joint map {smpl_joint: bvh_joint}",
    )


def choose_joint_map(path: Path, clip: BvhClip, joint_map: dict[str, str] | None) -> dict[str, str]:
    """``{smpl joint: BVH joint name as in the file}`` from ``joint_map`` or the best-fitting built-in map."""
    return best_joint_map(path, clip, joint_map)[1]


def load_joint_map(path: str | Path) -> dict[str, str]:
    """Read a user's ``{smpl_joint: bvh_joint}`` JSON map."""
    try:
        mapping = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise input_error(path, f"cannot read joint map ({exc})") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise input_error(path, "joint map must be a JSON object of SMPL joint -> BVH joint name")
    return mapping


def _leg_length(rest: np.ndarray, chain: list[int]) -> float:
    """m (or file units): summed bone lengths along ``chain`` in the rest pose ``(J, 3)``."""
    return float(sum(np.linalg.norm(rest[b] - rest[a]) for a, b in zip(chain[:-1], chain[1:])))


def _refine_alignments(
    correspondences: list[Correspondence],
    smpl: Skeleton,
    src: Skeleton,
    mapping: dict[str, str],
    positions: np.ndarray,
    src_global: np.ndarray,
    target_frame: np.ndarray,
) -> list[Correspondence]:
    """Correct the rest-pose alignments with what the motion shows.

    A rest pose fixes bone directions but not how a limb is twisted about them, nor whether
    the feet are flat: a T-pose gets both right by convention, a standing frame or an odd rig
    does not. Each hinged limb (hip-knee, shoulder-elbow) is turned about its bones so SMPL's
    knee or elbow bends in the plane the clip's limb bends in (:func:`observed_hinge_normal`);
    the hands keep their rest alignment, so they keep the clip's world orientation. Each foot
    (ankle and toes) is tilted so SMPL's foot is flat while the clip's foot stands
    (:func:`flat_foot_up`). What the clip does not show (a limb that never bends, a foot that
    never stands flat) keeps its rest alignment.
    ``positions (T, J, 3)`` and ``src_global (T, J, 4)`` are the source clip's FK.
    """
    aligns = {c.target: c.align for c in correspondences}
    t_rest, s_rest = smpl.rest_positions(), src.rest_positions()
    for upper, hinge, end, normal in HINGES:
        if not all(j in mapping for j in (upper, hinge, end)):
            continue
        s = [src.index(mapping[j]) for j in (upper, hinge, end)]
        source_normal = observed_hinge_normal(positions, src_global, *s)
        if source_normal is None:
            continue
        t = [smpl.index(j) for j in (upper, hinge, end)]
        target_normal = target_frame @ np.array(normal)
        for k in range(2):
            aligns[t[k]] = frame_alignment(t_rest[t[k + 1]] - t_rest[t[k]], target_normal, s_rest[s[k + 1]] - s_rest[s[k]], source_normal)
    leg = _leg_length(s_rest, [src.index(mapping[j]) for j in ("left_hip", "left_knee", "left_ankle")])
    for side in ("left", "right"):
        ankle, toe = f"{side}_ankle", mapping.get(f"{side}_foot")
        up = flat_foot_up(positions, src_global, src.index(mapping[ankle]), None if toe is None else src.index(toe), leg)
        if up is not None:
            t = smpl.index(ankle)
            aligns[t] = rot.multiply(rot.between(rot.rotate(aligns[t], target_frame[:, 1]), up), aligns[t])
            if f"{side}_foot" in mapping:  # the toes turn with the foot
                aligns[smpl.index(f"{side}_foot")] = aligns[t]
    return [Correspondence(c.target, c.source, aligns[c.target]) for c in correspondences]


def bvh_to_smpl(path: str | Path, joint_map: dict[str, str] | None = None) -> SmplMotion:
    """Import a BVH file as SMPL motion (scaled to SMPL's leg length, Y up)."""
    path = Path(path)
    clip = read_bvh(path)
    map_name, mapping = best_joint_map(path, clip, joint_map)
    if not any(j in mapping for j in ("spine1", "spine2", "spine3", "neck")):
        raise input_error(path, "the joint map names no spine or neck joint")
    exact = map_name in EXACT_REST
    if not exact:
        clip, _ = calibrate(clip, {smpl_joint: clip.skeleton.index(b) for smpl_joint, b in mapping.items()})
    smpl = smpl_skeleton()
    src = clip.skeleton
    pairs = [(smpl_joint, bvh_joint, ALIGNMENT[smpl_joint]) for smpl_joint, bvh_joint in mapping.items()]
    top = mapping.get("spine3") or mapping.get("neck") or mapping.get("spine2") or mapping["spine1"]
    try:
        source_frame = src.rest_frame(mapping["left_hip"], mapping["right_hip"], top)
        target_frame = smpl.rest_frame("left_hip", "right_hip", "spine3")
        correspondences = build_correspondences(smpl, src, pairs, target_frame, source_frame)
    except (ValueError, FloatingPointError) as exc:
        raise input_error(path, f"cannot align the BVH rest pose ({exc})") from None
    positions, src_global = src.forward_kinematics(clip.root_pos, clip.local_rot)
    if not exact:
        correspondences = _refine_alignments(correspondences, smpl, src, mapping, positions, src_global, target_frame)
    smpl_global = transfer_global_rotations(src_global, smpl, correspondences)
    local = smpl.local_from_global(smpl_global)

    rest_src, rest_smpl = src.rest_positions(), smpl.rest_positions()
    chain = ("hip", "knee", "ankle")
    src_leg = sum(_leg_length(rest_src, [src.index(mapping[f"{s}_{j}"]) for j in chain]) for s in ("left", "right"))
    smpl_leg = sum(_leg_length(rest_smpl, [smpl.index(f"{s}_{j}") for j in chain]) for s in ("left", "right"))
    if src_leg <= 0:
        raise input_error(path, "the BVH legs have zero length")
    scale = smpl_leg / src_leg
    hip_mid = 0.5 * (positions[:, src.index(mapping["left_hip"])] + positions[:, src.index(mapping["right_hip"])])
    smpl_hip_mid = 0.5 * (smpl.offsets[smpl.index("left_hip")] + smpl.offsets[smpl.index("right_hip")])
    pelvis = scale * hip_mid - rot.rotate(smpl_global[:, 0], np.broadcast_to(smpl_hip_mid, hip_mid.shape))
    return SmplMotion.from_local_rotations(local, pelvis, 1.0 / clip.frame_time, smpl)
