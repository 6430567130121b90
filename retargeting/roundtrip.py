"""How faithfully character -> SMPL -> character reproduces a clip (the conversion's own check)."""

from __future__ import annotations

import numpy as np

from characters import rotations as rot
from retargeting.character_motion import CharacterMotion
from retargeting.smpl_character import character_to_smpl, smpl_to_character


def roundtrip_errors(motion: CharacterMotion) -> dict[str, float]:
    """Errors of ``smpl_to_character(character_to_smpl(motion))`` against ``motion`` (no cleanup).

    Returns mean and max geodesic error (deg) over spherical joints and frames, and mean and
    max end-effector position error (cm). A clip with irregular frame times is first
    resampled to its median rate (SMPL files hold one rate) and compared as such.
    """
    motion = motion.uniform()
    back = smpl_to_character(character_to_smpl(motion), motion.character, cleanup=None)
    character = motion.character
    spherical = [k for k, (_, width) in enumerate(character.motion_frame_layout) if width == 4]
    angle = np.degrees(rot.geodesic_angle(motion.joint_rot[:, spherical], back.joint_rot[:, spherical]))
    ee = list(character.end_effectors)
    original, _ = motion.body_frames()
    returned, _ = back.body_frames()
    ee_error = 100.0 * np.linalg.norm(original[:, ee] - returned[:, ee], axis=-1)
    return {
        "frames": motion.num_frames,
        "mean_geodesic_deg": float(angle.mean()),
        "max_geodesic_deg": float(angle.max()),
        "mean_ee_error_cm": float(ee_error.mean()),
        "max_ee_error_cm": float(ee_error.max()),
    }
