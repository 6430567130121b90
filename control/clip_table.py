"""Many reference clips tabulated at the control rate and stacked into one table.

The tracker environment looks everything up by row: clip ``c`` at control step ``k`` is row
``start[c] + k``. The columns are those of :class:`control.reference.ReferenceTable` (which
computes them per clip on a 4x finer grid for the velocities), so the imitation
environment's reward and PD-target code read this table unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from control.reference import ReferenceTable
from retargeting.character_motion import CharacterMotion

_COLUMNS = (
    "root_pos", "root_rot", "joint_rot", "joint_vel", "root_lin_vel", "body_pos", "body_rot", "com_pos",
    "body_lin_vel", "body_ang_vel", "com",
)
_FINE = 4


class ClipTable:
    """Rows of ``len(motions)`` clips sampled every ``1 / rate_hz`` s.

    Attributes (``N`` rows in all, ``B`` bodies, ``M`` motion joints; world frame, Y up):
        root_pos ``(N, 3)`` m, root_rot ``(N, 4)``, joint_rot ``(N, M, 4)``,
        joint_vel ``(N, M, 3)`` rad/s, root_lin_vel ``(N, 3)`` m/s, body_pos ``(N, B, 3)`` m,
        body_rot ``(N, B, 4)``, com_pos ``(N, B, 3)`` m, body_lin_vel ``(N, B, 3)`` m/s,
        body_ang_vel ``(N, B, 3)`` rad/s, com ``(N, 3)`` m;
        start ``(C,)`` first row of each clip, length ``(C,)`` its rows.
    """

    def __init__(self, motions: Sequence[CharacterMotion], rate_hz: float = 30.0):
        if not motions:
            raise ValueError("a clip table needs at least one clip")
        self.character = motions[0].character
        self.rate = rate_hz
        self.wrap = False
        parts: dict[str, list[np.ndarray]] = {name: [] for name in _COLUMNS}
        lengths = []
        for motion in motions:
            fine = ReferenceTable(replace(motion, loop="none"), rate_hz=rate_hz * _FINE)
            for name in _COLUMNS:
                parts[name].append(getattr(fine, name)[::_FINE])
            lengths.append(len(parts["root_pos"][-1]))
        for name in _COLUMNS:
            setattr(self, name, np.concatenate(parts[name]))
        self.length = np.array(lengths)
        self.start = np.concatenate([[0], np.cumsum(self.length)[:-1]])
        self.cycle_shift = np.zeros(3)

    @property
    def num_clips(self) -> int:
        return len(self.length)

    def duration(self, clip: int) -> float:
        """s, from the clip's first row to its last."""
        return float(self.length[clip] - 1) / self.rate

    def rows_ahead(self, clip: int, step: int, offsets: np.ndarray) -> np.ndarray:
        """Rows ``offsets`` steps after ``step`` of ``clip``, held at its last row."""
        return self.start[clip] + np.minimum(step + offsets, self.length[clip] - 1)
