"""The adversarial teacher (Hoffmann et al., "Learning to train with synthetic humans").

Synthetic clips are grouped by the factors that made them — camera pitch, camera distance,
occlusion level and motion type — each split in two at the dataset's median (occlusion: any
totally occluded frame or hidden keypoints, or none), so up to 16 groups. The teacher holds a
distribution ``P̃`` over groups and draws each batch from one group (with ε uniform
exploration). It is rewarded (δ = +1) when the student's loss on that batch exceeds the mean of
the student's last H losses and penalised (δ = −1) otherwise; its target becomes

    P_i = P̃_i + δ α P̃_i,   P_j = P̃_j − δ α P̃_i / (|g| − 1)   (j ≠ i),

and ``P̃`` takes one gradient step towards it on the KL divergence. Hard groups thus get drawn
more while they stay hard.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

FACTORS = ("pitch", "distance", "occlusion", "motion")


def clip_factors(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per clip: camera pitch (deg, positive looking down), camera distance (m), occlusion (bool)
    and motion speed (m/s of the body joints at 30 frames/s), from a synthetic dataset's arrays."""
    joints = data["joints"].astype(np.float64)  # (N, T, 24, 3) camera frame, pelvis-relative, y down
    up = joints[:, :, 12] - joints[:, :, 0]  # pelvis -> neck
    pitch = np.degrees(np.median(np.arctan2(-up[..., 2], -up[..., 1]), axis=1))
    depth = np.where(data["occluded"], np.nan, data["pelvis_depth"])
    distance = np.nanmedian(depth, axis=1)  # clips are never occluded throughout
    occlusion = data["occluded"].any(axis=1) | ((data["confidence"] < 0.45) & ~data["occluded"][..., None]).any(axis=(1, 2))
    motion = 30.0 * np.linalg.norm(np.diff(joints, axis=1), axis=-1).mean(axis=(1, 2))
    return {"pitch": pitch, "distance": distance, "occlusion": occlusion, "motion": motion}


def clip_groups(data: dict[str, np.ndarray]) -> np.ndarray:
    """``(N,)`` group index 0..15 of every clip: one bit per factor (above the median, or occluded)."""
    factors = clip_factors(data)
    bits = [factors[name] > np.median(factors[name]) if name != "occlusion" else factors[name] for name in FACTORS]
    return sum(bit.astype(int) << k for k, bit in enumerate(bits))


class AdversarialTeacher:
    """A distribution over clip groups, trained to pick the groups the student finds hard."""

    def __init__(self, groups: np.ndarray, history: int = 20, alpha: float = 0.2, epsilon: float = 0.1, learning_rate: float = 0.05):
        self.names = np.unique(groups)
        self.members = [np.flatnonzero(groups == g) for g in self.names]
        self.history: deque[float] = deque(maxlen=history)
        self.alpha, self.epsilon = alpha, epsilon
        self.logits = torch.zeros(len(self.names), requires_grad=True)
        self.optimiser = torch.optim.Adam([self.logits], lr=learning_rate)

    def probabilities(self) -> np.ndarray:
        """``P̃``, ``(G,)``."""
        return torch.softmax(self.logits.detach(), 0).numpy()

    def pick(self, rng: np.random.Generator, batch: int) -> tuple[int, np.ndarray]:
        """A group (index into :attr:`names`) drawn from ``(1-ε) P̃ + ε uniform`` and ``batch`` of its clips."""
        p = (1 - self.epsilon) * self.probabilities() + self.epsilon / len(self.names)
        g = int(rng.choice(len(self.names), p=p / p.sum()))
        return g, rng.choice(self.members[g], batch)

    def update(self, group: int, student_loss: float) -> float:
        """Reward ``δ`` from the student's loss on ``group``'s batch, one KL step of ``P̃`` towards the target; returns δ."""
        delta = 0.0
        if self.history:
            delta = 1.0 if student_loss > float(np.mean(self.history)) else -1.0
        self.history.append(student_loss)
        if delta == 0.0 or len(self.names) < 2:
            return delta
        p = torch.softmax(self.logits.detach(), 0)
        target = p - delta * self.alpha * p[group] / (len(p) - 1)
        target[group] = p[group] + delta * self.alpha * p[group]
        target = target.clamp_min(1e-6)
        target = target / target.sum()
        loss = torch.sum(target * (target.log() - torch.log_softmax(self.logits, 0)))
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()
        return delta

    def state_dict(self) -> dict:
        return {"logits": self.logits.detach().clone(), "optimiser": self.optimiser.state_dict(), "history": list(self.history)}

    def load_state_dict(self, state: dict) -> None:
        with torch.no_grad():
            self.logits.copy_(state["logits"])
        self.optimiser.load_state_dict(state["optimiser"])
        self.history.clear()
        self.history.extend(state["history"])
