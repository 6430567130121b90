"""VIBE's motion discriminator: a sequence critic that pushes estimates towards human motion.

``D_M`` reads a window of body poses — the 23 local joint rotations (all but the global
orientation) as 6D per frame — through a GRU, pools over time and scores the sequence. It is
trained as a least-squares GAN against windows of mocap: the library the synthetic data comes
from (never its held-out clips), any user BVH / AMASS / DeepMimic folder, mirrored and played
at the synthetic data's speeds. The lifter adds ``L_adv = E[(D_M(θ̂) − 1)²]`` on its own
predictions (synthetic and, when real videos are given, real clips).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from characters import rotations as rot
from lifter_research.body_model import matrix_to_6d
from lifter_research.mocap_library import MocapClip, load_library, motion_files
from lifter_research.synthetic import SyntheticOptions
from retargeting.smpl import SMPL_PARENTS

BODY_FEATURES = 23 * 6


def body_pose_6d(rotations: torch.Tensor) -> torch.Tensor:
    """``(B, T, 24, 3, 3)`` rotation matrices -> ``(B, T, 138)`` 6D of the 23 local body rotations."""
    return matrix_to_6d(rotations[:, :, 1:]).flatten(2)


class MotionDiscriminator(nn.Module):
    """``(B, T, 138)`` pose sequences -> ``(B,)`` scores (1 = mocap, 0 = estimate)."""

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.gru = nn.GRU(BODY_FEATURES, hidden, batch_first=True, bidirectional=True)
        self.attention = nn.Linear(2 * hidden, 1)
        self.out = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        h, _ = self.gru(poses)
        weights = torch.softmax(self.attention(h), dim=1)  # VIBE's attention pooling over frames
        return self.out((weights * h).sum(1)).squeeze(-1)


class MocapWindows:
    """Random windows of mocap body poses, drawn like the synthetic data draws its motion."""

    def __init__(self, folders: list[Path] | None = None, clips: list[MocapClip] | None = None,
                 speed_range: tuple[float, float] = SyntheticOptions().speed_range):
        self.clips = clips if clips is not None else load_library(motion_files(folders), held_out=False)
        if not self.clips:
            raise ValueError("no mocap clips for the motion discriminator")
        self.speed_range = speed_range
        self.weights = np.sqrt(np.array([c.num_frames for c in self.clips], dtype=float))
        self.weights /= self.weights.sum()

    def sample(self, rng: np.random.Generator, batch: int, window: int) -> torch.Tensor:
        """``(batch, window, 138)`` 6D local body rotations."""
        out = np.empty((batch, window, 23, 3, 3), np.float32)
        for b in range(batch):
            clip = self.clips[rng.choice(len(self.clips), p=self.weights)]
            speed = float(np.exp(rng.uniform(*np.log(self.speed_range))))
            need = int(np.ceil(window * speed)) + 2
            start = int(rng.integers(0, max(1, clip.num_frames - need + 1)))
            piece = MocapClip(clip.name, clip.rotations[start : start + need], clip.pelvis[start : start + need])
            if rng.random() < 0.5:
                piece = piece.mirrored()
            piece = piece.retimed(speed)
            world = piece.rotations
            if len(world) < window:  # short clips: hold the last pose
                world = np.concatenate([world, np.repeat(world[-1:], window - len(world), axis=0)])
            world = world[:window]
            local = rot.multiply(rot.conjugate(world[:, SMPL_PARENTS[1:]]), world[:, 1:])
            out[b] = rot.to_matrix(local)
        return matrix_to_6d(torch.as_tensor(out)).flatten(2)


def discriminator_loss(discriminator: MotionDiscriminator, mocap: torch.Tensor, estimated: torch.Tensor) -> torch.Tensor:
    """Least squares: ``E[(D(mocap) − 1)²] + E[D(estimate)²]`` (the estimate detached)."""
    return ((discriminator(mocap) - 1) ** 2).mean() + (discriminator(estimated.detach()) ** 2).mean()


def adversarial_loss(discriminator: MotionDiscriminator, estimated: torch.Tensor) -> torch.Tensor:
    """``L_adv = E[(D_M(θ̂) − 1)²]``."""
    return ((discriminator(estimated) - 1) ** 2).mean()
