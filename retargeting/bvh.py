"""BVH files: parse any BVH into a skeleton plus per-frame local rotations, and write one.

Rotation channels are intrinsic Euler angles in the order listed (``Zrotation Xrotation
Yrotation`` means R = Rz Rx Ry), in degrees; lengths are in the file's own unit. BVH has no
up-axis field: files are taken as Y up, as CMU, Mixamo and Blender's exporter write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import InputError, atomic_output, input_error
from characters.skeleton import Skeleton


@dataclass
class BvhClip:
    """A parsed BVH file.

    Attributes:
        skeleton: joints (End Sites excluded), offsets in file units.
        root_pos: ``(T, 3)`` root position channel values (file units; rest offset if absent).
        local_rot: ``(T, J, 4)`` xyzw local rotations.
        frame_time: s per frame.
        end_sites: ``{joint index: (3,) offset}`` of End Site children.
    """

    skeleton: Skeleton
    root_pos: np.ndarray
    local_rot: np.ndarray
    frame_time: float
    end_sites: dict[int, np.ndarray]


def _tokens(path: Path) -> list[str]:
    try:
        return Path(path).read_text().split()
    except (OSError, UnicodeDecodeError) as exc:
        raise input_error(path, f"cannot read file ({exc})") from None


def read_bvh(path: str | Path) -> BvhClip:
    """Parse a BVH file; :class:`InputError` names the problem."""
    path = Path(path)
    tokens = _tokens(path)
    if not tokens or tokens[0] != "HIERARCHY":
        raise input_error(path, "not a BVH file: it does not start with HIERARCHY")
    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray] = []
    channels: list[list[str]] = []
    end_sites: dict[int, np.ndarray] = {}
    stack: list[int] = []
    i = 1
    pending_end = False
    try:
        while tokens[i] != "MOTION":
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                if tok == "ROOT" and names:
                    raise input_error(path, "more than one ROOT; only single-skeleton BVH is supported")
                names.append(tokens[i + 1])
                parents.append(stack[-1] if stack else -1)
                offsets.append(np.zeros(3))
                channels.append([])
                i += 2
            elif tok == "End":
                pending_end = True
                i += 2
            elif tok == "{":
                stack.append(-2 if pending_end else len(names) - 1)
                i += 1
            elif tok == "}":
                stack.pop()
                pending_end = False
                i += 1
            elif tok == "OFFSET":
                value = np.array([float(v) for v in tokens[i + 1 : i + 4]])
                if pending_end:
                    end_sites[[s for s in stack if s >= 0][-1]] = value
                else:
                    offsets[-1] = value
                i += 4
            elif tok == "CHANNELS":
                count = int(tokens[i + 1])
                if count < 0:
                    raise input_error(path, f"CHANNELS {count}: a channel count cannot be negative")
                channels[-1] = tokens[i + 2 : i + 2 + count]
                i += 2 + count
            else:
                raise input_error(path, f"unexpected token {tok!r} in HIERARCHY")
        if tokens[i + 1] != "Frames:" or tokens[i + 3] != "Frame" or tokens[i + 4] != "Time:":
            raise input_error(path, "MOTION must be followed by 'Frames: N' and 'Frame Time: s'")
        frames = int(tokens[i + 2])
        frame_time = float(tokens[i + 5])
        values = np.array([float(v) for v in tokens[i + 6 :]])
    except IndexError:
        raise input_error(path, "truncated BVH file") from None
    except InputError:
        raise
    except ValueError as exc:
        raise input_error(path, f"malformed number ({exc})") from None
    if not names:
        raise input_error(path, "no joints in HIERARCHY")
    width = sum(len(c) for c in channels)
    known = {axis + kind for axis in "xyz" for kind in ("position", "rotation")}
    unknown = next((c for chans in channels for c in chans if c.lower() not in known), None)
    if unknown is not None:
        raise input_error(path, f"unknown channel {unknown!r}; channels are Xposition .. Zposition and Xrotation .. Zrotation")
    if frames <= 0:
        raise input_error(path, "empty clip: no frames")
    if values.size != frames * width:
        raise input_error(path, f"expected {frames} frames of {width} values, found {values.size} values")
    if not np.all(np.isfinite(values)) or not (np.isfinite(frame_time) and frame_time > 0):
        raise input_error(path, "motion data contain NaN, infinity or a non-positive frame time")
    values = values.reshape(frames, width)

    local_rot = rot.identity((frames, len(names)))
    root_pos = np.broadcast_to(offsets[0], (frames, 3)).copy()
    col = 0
    for j, chans in enumerate(channels):
        rotation_axes = "".join(c[0].upper() for c in chans if c.lower().endswith("rotation"))
        rot_cols = [col + k for k, c in enumerate(chans) if c.lower().endswith("rotation")]
        pos_cols = {c[0].upper(): col + k for k, c in enumerate(chans) if c.lower().endswith("position")}
        if rotation_axes:
            local_rot[:, j] = rot.from_euler(np.radians(values[:, rot_cols]), rotation_axes)
        if j == 0:
            for a, axis in enumerate("XYZ"):
                if axis in pos_cols:
                    root_pos[:, a] = values[:, pos_cols[axis]]
        col += len(chans)
    skeleton = Skeleton(tuple(names), np.array(parents), np.array(offsets))
    return BvhClip(skeleton, root_pos, local_rot, frame_time, end_sites)


def write_bvh(
    path: str | Path,
    skeleton: Skeleton,
    root_pos: np.ndarray,
    local_rot: np.ndarray,
    frame_time: float,
    end_sites: dict[int, np.ndarray] | None = None,
    order: str = "ZXY",
) -> None:
    """Write a BVH file (atomically): root with 6 channels, other joints 3 rotation channels.

    ``skeleton`` must have identity rest rotations; ``root_pos (T, 3)`` and offsets are
    written as given (metres for vidmimic's skeletons); ``local_rot (T, J, 4)``.
    """
    assert np.allclose(skeleton.rest_rotations, rot.identity()), "BVH joints have no rest rotation"
    end_sites = end_sites or {}
    axes = [f"{a}rotation" for a in order]
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        pad = "  " * depth
        kind = "ROOT" if skeleton.parents[j] < 0 else "JOINT"
        lines.append(f"{pad}{kind} {skeleton.names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {' '.join(f'{v:.6f}' for v in skeleton.offsets[j])}")
        chans = (["Xposition", "Yposition", "Zposition"] if kind == "ROOT" else []) + axes
        lines.append(f"{pad}  CHANNELS {len(chans)} {' '.join(chans)}")
        children = skeleton.children(j)
        for c in children:
            emit(c, depth + 1)
        if not children or j in end_sites:
            site = end_sites.get(j, np.zeros(3))
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {' '.join(f'{v:.6f}' for v in site)}", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit(0, 0)
    frames = local_rot.shape[0]
    euler = np.degrees(rot.to_euler(local_rot, order))  # (T, J, 3)
    order_index = [skeleton.names.index(n) for n in _depth_first(skeleton)]
    data = np.concatenate([root_pos, euler[:, order_index].reshape(frames, -1)], axis=1)
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {frame_time:.8f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in data]
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")


def _depth_first(skeleton: Skeleton) -> list[str]:
    out: list[str] = []

    def visit(j: int) -> None:
        out.append(skeleton.names[j])
        for c in skeleton.children(j):
            visit(c)

    visit(0)
    return out
