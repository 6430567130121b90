"""BVH mocap -> :class:`SmplMotion`, through a joint-name map with rest-pose alignment.

Built-in maps cover the CMU skeleton (ASF-style names as in ``131_01.bvh``, and the cgspeed
conversion's names) and Mixamo; a user map is a JSON object ``{smpl_joint: bvh_joint}``.
Names are compared case-insensitively, without a ``namespace:`` prefix. The map must cover
the pelvis, hips, knees, ankles, shoulders, elbows and at least one spine joint; other SMPL
joints it leaves out keep identity local rotations.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import input_error
from retargeting.bvh import BvhClip, read_bvh
from retargeting.smpl import SmplMotion, smpl_skeleton
from retargeting.transfer import build_correspondences, transfer_global_rotations

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
    """Expand ``{"{s}_hip": "{S}Hip"}`` into left/right entries (``{s}`` = left/right, ``{S}`` = Left/Right)."""
    out = {}
    for smpl, bvh in template.items():
        if "{s}" in smpl:
            for side, cap in (("left", "Left"), ("right", "Right")):
                out[smpl.format(s=side)] = bvh.format(s=side, S=cap)
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
}


def _plain(name: str) -> str:
    return name.rsplit(":", 1)[-1].lower()


def choose_joint_map(path: Path, clip: BvhClip, joint_map: dict[str, str] | None) -> dict[str, str]:
    """``{smpl joint: BVH joint name as in the file}`` from ``joint_map`` or the best-fitting built-in map."""
    present = {_plain(n): n for n in clip.skeleton.names}
    candidates = [joint_map] if joint_map is not None else list(JOINT_MAPS.values())
    best: dict[str, str] | None = None
    fewest_missing: list[str] | None = None
    for mapping in candidates:
        unknown_smpl = sorted(set(mapping) - set(ALIGNMENT))
        if unknown_smpl:
            raise input_error(path, f"joint map names unknown SMPL joints {unknown_smpl}")
        missing = [mapping.get(j, j) for j in REQUIRED if _plain(mapping.get(j, "")) not in present]
        found = {smpl: present[_plain(b)] for smpl, b in mapping.items() if _plain(b) in present}
        if not missing and (best is None or len(found) > len(best)):
            best = found  # the map that names the most joints of this file wins
        if fewest_missing is None or len(missing) < len(fewest_missing):
            fewest_missing = missing
    if best is not None:
        return best
    raise input_error(
        path,
        f"unknown BVH joints: the skeleton matches no joint map (missing {', '.join(fewest_missing or [])}); "
        "pass a JSON joint map {smpl_joint: bvh_joint}",
    )


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


def bvh_to_smpl(path: str | Path, joint_map: dict[str, str] | None = None) -> SmplMotion:
    """Import a BVH file as SMPL motion (scaled to SMPL's leg length, Y up)."""
    path = Path(path)
    clip = read_bvh(path)
    mapping = choose_joint_map(path, clip, joint_map)
    smpl = smpl_skeleton()
    src = clip.skeleton
    pairs = [(smpl_joint, bvh_joint, ALIGNMENT[smpl_joint]) for smpl_joint, bvh_joint in mapping.items()]
    top = mapping.get("spine3") or mapping.get("neck") or mapping.get("spine2") or mapping["spine1"]
    try:
        source_frame = src.rest_frame(mapping["left_hip"], mapping["right_hip"], top)
        correspondences = build_correspondences(smpl, src, pairs, smpl.rest_frame("left_hip", "right_hip", "spine3"), source_frame)
    except (ValueError, FloatingPointError) as exc:
        raise input_error(path, f"cannot align the BVH rest pose ({exc})") from None
    positions, src_global = src.forward_kinematics(clip.root_pos, clip.local_rot)
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
