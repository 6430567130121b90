"""The simulated motion as recorded for replays and exports: feet on the ground, not in it.

PyBullet's contacts are soft: with the environment's settings (contact ERP 0.9 at 120 Hz, which
the trained policies rely on) the character's collision shapes sink into the ground plane while
they touch it. Measured 2026-12-04: replaying ``policies/sample_walk`` for 4 s, PyBullet reports
contact distances of -3.4 cm (median; worst -5.8 cm); in the demo's recorded ``sim_motion.txt``
(10 s, 301 frames) the lowest point of the collision geometry is below -1 cm in 293 frames
(median -3.1 cm, worst -7.7 cm) while the reference stays within 0-6 mm.
The physics is left as it is; the *recorded* pose is raised, frame by frame, by the depth its
lowest point is below the ground, so an exported contact frame touches the ground at height 0.
Frames without penetration (a foot in the air) are raised by the depth interpolated between
their neighbours, so the motion stays continuous.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from retargeting.character_motion import CharacterMotion


def penetration_lift(motion: CharacterMotion) -> np.ndarray:
    """``(T,)`` m the root must rise per frame for the lowest collision point to be at height 0
    where it is below it (interpolated in between; 0 throughout if nothing is below the ground)."""
    character = motion.character
    pos, rots = motion.body_frames()
    lowest = character.lowest_heights(pos, rots, tuple(range(character.num_bodies))).min(axis=1)
    below = np.flatnonzero(lowest < 0.0)
    if below.size == 0:
        return np.zeros(motion.num_frames)
    return np.interp(np.arange(motion.num_frames), below, -lowest[below])


def lift_out_of_ground(motion: CharacterMotion) -> tuple[CharacterMotion, np.ndarray]:
    """``motion`` raised by :func:`penetration_lift`, and that lift ``(T,)`` in m."""
    lift = penetration_lift(motion)
    root_pos = motion.root_pos.copy()
    root_pos[:, 1] += lift
    return replace(motion, root_pos=root_pos), lift
