"""AMASS-style SMPL motion files (``.npz``).

Keys: ``poses`` ``(T, 3J)`` axis-angle (J = 24 SMPL; 52 SMPL-H and 55 SMPL-X are accepted and
their body joints kept; 22 = body without hands), ``trans`` ``(T, 3)`` m, ``betas``,
``mocap_framerate`` (or ``mocap_frame_rate``), ``gender``. The split form ``root_orient`` +
``pose_body`` is accepted too. vidmimic adds ``vidmimic_source = "video"`` to the estimates it
writes (other readers ignore the key).

AMASS's world is **Z up**; vidmimic's is Y up. Files are converted here, on read and write,
by a rotation of the whole world about X (the body, rotated about its rest pelvis, is
carried with it), so exported files open like any AMASS file.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import atomic_output, input_error
from retargeting.smpl import NUM_SMPL_JOINTS, SmplMotion, smpl_skeleton

# Rotation taking AMASS (Z up) coordinates to vidmimic (Y up): -90 degrees about X.
Z_UP_TO_Y_UP = rot.about_axis(np.array([1.0, 0.0, 0.0]), -np.pi / 2)
_BODY_JOINTS_WITHOUT_HANDS = 22
SOURCES = ("mocap", "video")
"""Values of the optional ``vidmimic_source`` key (absent: mocap); see :class:`SmplMotion`."""


def _change_world(motion_poses: np.ndarray, trans: np.ndarray, world_rot: np.ndarray, pelvis_rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate a whole SMPL motion by ``world_rot``; poses ``(T, 24, 3)``, trans ``(T, 3)``."""
    poses = motion_poses.copy()
    poses[:, 0] = rot.to_axis_angle(rot.multiply(world_rot, rot.from_axis_angle(poses[:, 0])))
    pelvis = trans + pelvis_rest
    return poses, rot.rotate(world_rot, pelvis) - pelvis_rest


def _numbers(path: Path, arrays: dict, key: str) -> np.ndarray:
    """``arrays[key]`` as floats; InputError if it holds anything else (strings, records)."""
    try:
        return np.asarray(arrays[key], dtype=float)
    except (TypeError, ValueError):
        raise input_error(path, f'"{key}" is not numeric (dtype {arrays[key].dtype})') from None


def read_amass(path: str | Path, smpl_model: str | Path | None = None) -> SmplMotion:
    """Load an AMASS-style npz into a Y-up :class:`SmplMotion`.

    With ``smpl_model`` (a user's SMPL model file), the skeleton is that model's, shaped by
    the file's ``betas``; otherwise the embedded mean-shape skeleton.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise input_error(path, f"not a readable npz file ({exc})") from None
    if "poses" in arrays:
        flat = _numbers(path, arrays, "poses")
    elif "root_orient" in arrays and "pose_body" in arrays:
        root, body = _numbers(path, arrays, "root_orient"), _numbers(path, arrays, "pose_body")
        if root.ndim != 2 or body.ndim != 2 or root.shape[0] != body.shape[0]:
            raise input_error(path, f'"root_orient" {root.shape} and "pose_body" {body.shape} do not line up frame by frame')
        flat = np.concatenate([root, body], axis=1)
    else:
        raise input_error(path, 'no "poses" array (nor "root_orient" + "pose_body")')
    if flat.ndim != 2 or flat.shape[1] % 3 != 0 or flat.shape[1] // 3 not in (21, 22, 24, 52, 55):
        raise input_error(path, f'"poses" has shape {flat.shape}; expected (frames, 66|72|156|165)')
    frames = flat.shape[0]
    if frames == 0:
        raise input_error(path, "empty clip: no frames")
    if "trans" not in arrays:
        raise input_error(path, 'no "trans" array')
    trans = _numbers(path, arrays, "trans")
    if trans.shape != (frames, 3):
        raise input_error(path, f'"trans" has shape {trans.shape}; expected ({frames}, 3)')
    fps_key = next((k for k in ("mocap_framerate", "mocap_frame_rate", "fps") if k in arrays), None)
    if fps_key is None:
        raise input_error(path, 'no "mocap_framerate"')
    rate = _numbers(path, arrays, fps_key)
    if rate.size != 1:
        raise input_error(path, f'"{fps_key}" has shape {rate.shape}; expected one number')
    fps = float(rate.reshape(-1)[0])
    poses = np.zeros((frames, NUM_SMPL_JOINTS, 3))
    joints_in_file = flat.shape[1] // 3
    kept = NUM_SMPL_JOINTS if joints_in_file == NUM_SMPL_JOINTS else min(joints_in_file, _BODY_JOINTS_WITHOUT_HANDS)
    poses[:, :kept] = flat[:, : 3 * kept].reshape(frames, kept, 3)
    if not (np.all(np.isfinite(poses)) and np.all(np.isfinite(trans)) and np.isfinite(fps) and fps > 0):
        raise input_error(path, "poses, trans or frame rate contain NaN, infinity or a non-positive rate")
    gender = str(arrays["gender"]) if "gender" in arrays else "neutral"
    betas = _numbers(path, arrays, "betas").reshape(-1) if "betas" in arrays else np.zeros(10)
    skeleton = smpl_skeleton(smpl_model, betas) if smpl_model else smpl_skeleton()
    source = str(arrays["vidmimic_source"]) if "vidmimic_source" in arrays else "mocap"
    if source not in SOURCES:
        raise input_error(path, f'"vidmimic_source" is {source!r}; expected one of {", ".join(SOURCES)}')
    poses, trans = _change_world(poses, trans, Z_UP_TO_Y_UP, skeleton.offsets[0])
    return SmplMotion(poses, trans, fps, betas, gender, skeleton, source)


def write_amass(path: str | Path, motion: SmplMotion) -> None:
    """Write ``motion`` as a Z-up AMASS-style npz (SMPL, 24 joints), atomically."""
    motion.validate()
    poses, trans = _change_world(motion.poses, motion.trans, rot.conjugate(Z_UP_TO_Y_UP), motion.skeleton.offsets[0])
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                poses=poses.reshape(motion.num_frames, -1),
                trans=trans,
                betas=motion.betas,
                mocap_framerate=np.array(motion.fps),
                gender=np.array(motion.gender),
                **({} if motion.source == "mocap" else {"vidmimic_source": np.array(motion.source)}),
            )
