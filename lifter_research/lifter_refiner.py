"""The S+U refiner (Shrivastava et al., "SimGAN") on the lifter's keypoint tracks.

Synthetic keypoints come from a noise model; real ones from MediaPipe. The refiner ``R`` makes
synthetic keypoint tracks look like the detector's: a temporal convolution over
``(keypoints, confidence)`` per frame that adds a correction (its last layer starts at zero, so
``R`` starts as the identity). It is trained against a local discriminator ``D`` — a temporal
convolution whose every output looks at a 9-frame patch of the track — with the adversarial
loss plus the self-regularisation ``λ ‖R(x) − x‖₁`` (ψ the identity), and ``D`` sees half
freshly refined tracks and half tracks from a history buffer of earlier refinements. After
this pre-training, the lifter learns from refined synthetic tracks (``R`` frozen); real videos
go to the lifter as they are. The flow channels are not refined.

Tracks: ``keypoints (B, T, 17, 2)`` crop coordinates, ``confidence (B, T, 17)``, ``occluded (B, T)``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

CHANNELS = 17 * 3


def as_track(keypoints: torch.Tensor, confidence: torch.Tensor) -> torch.Tensor:
    """``(B, 51, T)``: keypoints centred on the crop and confidences, channels first."""
    return torch.cat([(keypoints - 0.5).flatten(2), confidence], dim=-1).transpose(1, 2)


class KeypointRefiner(nn.Module):
    def __init__(self, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(CHANNELS, hidden, 5, padding=2), nn.ReLU(inplace=True),
            nn.Conv1d(hidden, hidden, 5, padding=2), nn.ReLU(inplace=True), nn.Conv1d(hidden, CHANNELS, 1),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, keypoints: torch.Tensor, confidence: torch.Tensor, occluded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Refined ``keypoints (B, T, 17, 2)`` and ``confidence (B, T, 17)``; occluded frames stay zero."""
        b, t = occluded.shape
        x = as_track(keypoints, confidence)
        y = (x + self.net(x)).transpose(1, 2)
        present = (~occluded).float()[..., None]
        kp = (y[..., :34].reshape(b, t, 17, 2) + 0.5) * present[..., None]
        conf = y[..., 34:].clamp(0.0, 1.0) * present
        return kp, conf


class PatchDiscriminator(nn.Module):
    """Per-frame logits ``(B, T)`` that each 9-frame patch of a track is a real detector's."""

    def __init__(self, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(CHANNELS, hidden, 5, padding=2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv1d(hidden, hidden, 5, padding=2), nn.LeakyReLU(0.2, inplace=True), nn.Conv1d(hidden, 1, 1),
        )

    def forward(self, keypoints: torch.Tensor, confidence: torch.Tensor) -> torch.Tensor:
        return self.net(as_track(keypoints, confidence)).squeeze(1)


class HistoryBuffer:
    """Earlier refined tracks, ``(N, T, 17, 3)``; random entries are replaced by new ones."""

    def __init__(self, size: int, rng: np.random.Generator):
        self.size, self.rng = size, rng
        self.items: torch.Tensor | None = None

    def mix(self, fresh: torch.Tensor) -> torch.Tensor:
        """Half ``fresh`` (detached), half drawn from the buffer (all fresh while it fills); stores ``fresh``."""
        fresh = fresh.detach()
        if self.items is None or len(self.items) < self.size:
            out = fresh
            self.items = fresh if self.items is None else torch.cat([self.items, fresh])[: self.size]
            return out
        half = len(fresh) // 2
        old = self.items[torch.as_tensor(self.rng.choice(len(self.items), half, replace=False))]
        out = torch.cat([fresh[: len(fresh) - half], old])
        self.items[torch.as_tensor(self.rng.choice(len(self.items), len(fresh), replace=False))] = fresh
        return out


def refiner_step(refiner: KeypointRefiner, discriminator: PatchDiscriminator, optimisers: tuple, buffer: HistoryBuffer,
                 synthetic: dict[str, torch.Tensor], real: dict[str, torch.Tensor], self_regularisation: float) -> dict[str, float]:
    """One refiner update then one discriminator update (SimGAN's alternation); returns the losses."""
    bce = nn.functional.binary_cross_entropy_with_logits
    opt_r, opt_d = optimisers
    kp, conf = refiner(synthetic["keypoints"], synthetic["confidence"], synthetic["occluded"])
    logits = discriminator(kp, conf)
    adversarial = bce(logits, torch.ones_like(logits))
    regular = (kp - synthetic["keypoints"]).abs().mean() + (conf - synthetic["confidence"]).abs().mean()
    opt_r.zero_grad()
    (adversarial + self_regularisation * regular).backward()
    opt_r.step()

    fake = buffer.mix(torch.cat([kp, conf[..., None]], dim=-1))
    real_logits = discriminator(real["keypoints"], real["confidence"])
    fake_logits = discriminator(fake[..., :2], fake[..., 2])
    d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    with torch.no_grad():
        accuracy = 0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean())
    return {"refiner_adversarial": float(adversarial.detach()), "refiner_regularisation": float(regular.detach()), "discriminator": float(d_loss.detach()),
            "discriminator_accuracy": float(accuracy)}
