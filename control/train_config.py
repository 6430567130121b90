"""PPO settings of per-clip training and of the tracker's, without importing the trainer.

The CLI reads its training options' defaults and help from here (``app/arguments.py``), so
``vidmimic --help`` stays fast and no default is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    """PPO settings (stable-baselines3 names where they exist)."""

    timesteps: int = 10_000_000
    """Stop after this many environment steps (samples) in total."""
    minutes: float = 240.0
    """... or after this much wall-clock time, whichever comes first."""
    seed: int = 0
    """Seed of the environments, the network's initialisation and the sampling."""
    envs: int = 8
    """Environments in total, spread over the MPI ranks."""
    n_steps: int = 512
    """Steps per environment per PPO iteration (batch = envs * n_steps)."""
    batch_size: int = 1024
    """Minibatch size."""
    n_epochs: int = 5
    """Passes over each iteration's batch."""
    learning_rate: float = 1e-4
    """Adam step size. At 2e-4 the updates overshot (approx. KL 0.05-0.1, half the samples clipped)."""
    target_kl: float | None = 0.03
    """Stop an update's epochs early once the approximate KL passes 1.5x this."""
    gamma: float = 0.95
    """Discount per control step."""
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    log_std_init: float = -1.6
    """Initial log std of the Gaussian policy in action units (action_scale rad each): ~0.1 rad."""
    net_arch: tuple[int, ...] = (512, 256)
    checkpoint_minutes: float = 5.0
    """Minutes between checkpoints (checkpoint.zip, a snapshot and policy.zip)."""
    torch_threads: int = 1
    """Threads of the policy's forward passes while environments step."""
    learner_threads: int = 1
    """Threads of PPO's update on rank 0; the other ranks sleep meanwhile, so up to the machine's cores."""


TRACKER_TRAIN_DEFAULTS = TrainConfig(
    timesteps=200_000_000, minutes=170.0, envs=16, n_steps=512, batch_size=2048, n_epochs=5,
    learning_rate=1e-4, gamma=0.95, net_arch=(512, 256), checkpoint_minutes=10.0,
)
"""The general tracker's settings (``vidmimic tracker train``): more environments and a larger
minibatch than one clip needs, checkpoints every 10 minutes."""
