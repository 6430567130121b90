"""DeepMimic motion files (``.txt``, JSON): read and write exactly.

Layout of one frame for the humanoid3d character::

    [dt, root_pos(3), root_quat(4), chest(4), neck(4), r_hip(4), r_knee(1), r_ankle(4),
     r_shoulder(4), r_elbow(1), l_hip(4), l_knee(1), l_ankle(4), l_shoulder(4), l_elbow(1)]

Quaternions are w, x, y, z in the file (x, y, z, w inside vidmimic); positions are Y up in
metres. Other characters follow their spec's ``motion_joints`` order.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.character import Character
from characters.errors import atomic_output, input_error
from retargeting.character_motion import CharacterMotion

LOOP_MODES = ("wrap", "none")


def frame_width(character: Character) -> int:
    """Numbers per frame: dt, root position, root quaternion, then the joints."""
    return 1 + 3 + 4 + sum(width for _, width in character.motion_frame_layout)


def _wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q[..., 1:], q[..., :1]], axis=-1)


def _xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q[..., 3:], q[..., :3]], axis=-1)


def read_deepmimic(path: str | Path, character: Character) -> CharacterMotion:
    """Load a DeepMimic motion file for ``character``; :class:`InputError` names any problem."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise input_error(path, f"cannot read file ({exc.__class__.__name__}: {exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise input_error(path, f"invalid or truncated JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise input_error(path, "JSON nested too deeply to be a motion") from None
    if not isinstance(data, dict) or "Frames" not in data:
        raise input_error(path, 'not a DeepMimic motion: no "Frames" list')
    frames = data["Frames"]
    if not isinstance(frames, list) or len(frames) == 0:
        raise input_error(path, "empty clip: no frames")
    width = frame_width(character)
    for i, frame in enumerate(frames):
        if not isinstance(frame, list) or len(frame) != width:
            got = len(frame) if isinstance(frame, list) else type(frame).__name__
            raise input_error(path, f"frame {i} has {got} values, expected {width} for character {character.name}")
    try:
        array = np.array(frames, dtype=float)
    except (TypeError, ValueError):
        raise input_error(path, "frames contain values that are not numbers") from None
    bad = ~np.isfinite(array)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise input_error(path, f"frame {i} value {j} is {array[i, j]} (NaN or infinite)")
    loop = data.get("Loop", "none")
    if loop not in LOOP_MODES:
        raise input_error(path, f'"Loop" is {loop!r}, expected one of {", ".join(LOOP_MODES)}')

    frame_dt = array[:, 0]
    if np.any(frame_dt[:-1] <= 0) or frame_dt[-1] < 0:
        raise input_error(path, "frame durations (first column) must be positive")
    root_rot = _checked_quaternions(path, array[:, 4:8], "root")
    joint_rot = np.empty((len(frames), len(character.motion_joints), 4))
    col = 8
    for k, (body, w) in enumerate(character.motion_frame_layout):
        if w == 4:
            joint_rot[:, k] = _checked_quaternions(path, array[:, col : col + 4], character.body_names[body])
        else:
            joint_rot[:, k] = rot.about_axis(character.hinge_axes[body], array[:, col])
        col += w
    extra = {k: v for k, v in data.items() if k not in ("Loop", "Frames")}
    return CharacterMotion(character, frame_dt, array[:, 1:4].copy(), root_rot, joint_rot, loop, extra)


def _checked_quaternions(path: Path, wxyz: np.ndarray, joint: str) -> np.ndarray:
    norms = np.linalg.norm(wxyz, axis=-1)
    if np.any(norms < 1e-6):
        raise input_error(path, f"joint {joint} has a zero quaternion in frame {int(np.argmax(norms < 1e-6))}")
    return _wxyz_to_xyzw(wxyz / norms[:, None])


def motion_to_frames(motion: CharacterMotion) -> np.ndarray:
    """``(T, width)`` DeepMimic frame rows of ``motion``."""
    columns = [motion.frame_dt[:, None], motion.root_pos, _xyzw_to_wxyz(motion.root_rot)]
    for k, (body, w) in enumerate(motion.character.motion_frame_layout):
        if w == 4:
            columns.append(_xyzw_to_wxyz(motion.joint_rot[:, k]))
        else:
            columns.append(rot.angle_about(motion.joint_rot[:, k], motion.character.hinge_axes[body])[:, None])
    return np.concatenate(columns, axis=1)


def write_deepmimic(path: str | Path, motion: CharacterMotion) -> None:
    """Write ``motion`` as a DeepMimic motion file (atomically; full float precision)."""
    motion.validate()
    rows = motion_to_frames(motion)
    head = {"Loop": motion.loop, **motion.extra}
    lines = ["{"] + [f"{json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()] + ['"Frames":', "["]
    body = ",\n".join("[" + ", ".join(_number(v) for v in row) + "]" for row in rows)
    text = "\n".join(lines) + "\n" + body + "\n]\n}\n"
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def _number(value: float) -> str:
    # repr round-trips a float exactly; avoid "-0.0" noise.
    return "0.0" if value == 0 else repr(float(value)) if math.isfinite(value) else "null"
