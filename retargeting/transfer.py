"""Rotation transfer between two skeletons with rest-pose alignment.

Each mapped target joint takes the world rotation of its source joint times a fixed
alignment ``O``: ``G_target = G_source * O``. ``O`` maps directions of the target's rest pose
onto the source's rest pose, so bones point the same way in the world whatever the two rest
poses are (T-pose, arms down, splayed legs):

* ``"facing"``: ``O`` only turns the target's rest body frame (left, up, forward) onto the
  source's. Used where both rest poses have the part "straight" (torso, head, flat feet).
* ``"bone"``: additionally the smallest rotation taking the target's rest bone (towards its
  first mapped descendant) onto the source's corresponding bone. Used for limbs.
* ``"parent"``: the alignment of the nearest mapped ancestor (hands follow the forearm).

Unmapped target joints keep their parent's world rotation (identity local rotation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from characters import rotations as rot
from characters.skeleton import Skeleton

ALIGN_KINDS = ("facing", "bone", "parent")


@dataclass(frozen=True)
class Correspondence:
    """Target joint ``target`` follows source joint ``source`` through alignment ``align (4,)``."""

    target: int
    source: int
    align: np.ndarray


def build_correspondences(
    target: Skeleton,
    source: Skeleton,
    pairs: list[tuple[str, str, str]],
    target_frame: np.ndarray,
    source_frame: np.ndarray,
) -> list[Correspondence]:
    """Alignments for ``(target joint, source joint, kind)`` pairs.

    ``target_frame`` and ``source_frame`` are the ``(3, 3)`` rest body frames (columns left,
    up, forward) of the two skeletons, from :meth:`Skeleton.rest_frame` or a character spec.
    """
    facing = rot.from_matrix(source_frame @ target_frame.T)
    t_rest, s_rest = target.rest_positions(), source.rest_positions()
    source_of = {target.index(t): source.index(s) for t, s, _ in pairs}
    aligns: dict[int, np.ndarray] = {}
    out = []
    for t_name, _, kind in sorted(pairs, key=lambda p: target.index(p[0])):
        t = target.index(t_name)
        if kind not in ALIGN_KINDS:
            raise ValueError(f"alignment of {t_name!r} is {kind!r}; expected one of {ALIGN_KINDS}")
        align = facing
        if kind == "bone":
            child = _first_mapped_descendant(target, t, source_of)
            if child is None:
                raise ValueError(f"joint {t_name!r} is aligned by bone but no descendant is mapped")
            t_dir = rot.rotate(facing, t_rest[child] - t_rest[t])
            s_dir = s_rest[source_of[child]] - s_rest[source_of[t]]
            align = rot.multiply(rot.between(t_dir, s_dir), facing)
        elif kind == "parent":
            ancestor = target.parents[t]
            while ancestor >= 0 and ancestor not in aligns:
                ancestor = target.parents[ancestor]
            align = aligns.get(ancestor, facing)
        aligns[t] = align
        out.append(Correspondence(t, source_of[t], align))
    return out


def _first_mapped_descendant(skeleton: Skeleton, joint: int, mapped: dict[int, int]) -> int | None:
    queue = skeleton.children(joint)
    while queue:
        j = queue.pop(0)
        if j in mapped:
            return j
        queue.extend(skeleton.children(j))
    return None


def transfer_global_rotations(source_global: np.ndarray, target: Skeleton, correspondences: list[Correspondence]) -> np.ndarray:
    """``(T, Js, 4)`` source world rotations -> ``(T, Jt, 4)`` target world rotations."""
    frames = source_global.shape[0]
    out = np.empty((frames, len(target), 4))
    by_target = {c.target: c for c in correspondences}
    for j, p in enumerate(target.parents):
        c = by_target.get(j)
        if c is not None:
            out[:, j] = rot.multiply(source_global[:, c.source], c.align)
        elif p >= 0:
            out[:, j] = rot.multiply(out[:, p], target.rest_rotations[j])
        else:
            out[:, j] = rot.identity((frames,))
    return out


def invert(correspondences: list[Correspondence]) -> list[Correspondence]:
    """The correspondences for transferring the other way (``G_source = G_target * O^-1``)."""
    return [Correspondence(c.source, c.target, rot.conjugate(c.align)) for c in correspondences]
