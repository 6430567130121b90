"""``vidmimic estimator train``: fit the lifter on a synthetic dataset within a time budget.

Batches are random ``window``-frame pieces of the dataset's clips. The loss is the paper's
two — Procrustes-aligned 3D joint error and 2D reprojection error — plus a rotation loss on
the 24 SMPL rotations (what the character uses) and a small pull of the shape towards the
truth. The learning rate follows a cosine over the time budget (or the step budget, if given), so a
budget is a schedule.

The run folder holds ``checkpoint.pt`` (model, optimiser, step, elapsed time; written every
few minutes and at the end, so ``--resume`` continues exactly), ``lifter.pt`` (weights and
config, what ``vidmimic estimate --estimator lifter`` loads), ``progress.csv`` and
``train.json`` (command, seed, data, wall-clock, samples).
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from characters.errors import atomic_output
from pose_estimation.body_model import TorchSkeleton
from pose_estimation.lifter import Lifter, LifterConfig
from pose_estimation.lifter_losses import pa_joint_error, reprojection_error, rotation_error
from pose_estimation.synthetic_dataset import load_dataset

Progress = Callable[[int, int], None]
INPUT_KEYS = ("keypoints", "confidence", "occluded", "flow")


@dataclass(frozen=True)
class TrainOptions:
    minutes: float = 20.0
    """Wall-clock budget (the learning-rate schedule spans it)."""
    steps: int | None = None
    """Optional step budget: training stops at whichever budget runs out first, and the schedule
    follows the step count (rows of a table then get equal training whatever the machine's load)."""
    batch: int = 16
    """Clips per batch."""
    learning_rate: float = 1e-3
    seed: int = 0
    checkpoint_minutes: float = 3.0
    weight_3d: float = 10.0
    weight_2d: float = 10.0
    weight_rotation: float = 1.0
    weight_betas: float = 0.01
    max_clips: int | None = None
    """Use only the first N clips of the dataset (tests, ablations)."""


def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """``(..., 4)`` xyzw -> ``(..., 3, 3)``."""
    x, y, z, w = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ], dim=-1).reshape(q.shape[:-1] + (3, 3))


def batch_of(data: dict[str, np.ndarray], clips: np.ndarray, starts: np.ndarray, window: int) -> dict[str, torch.Tensor]:
    """Tensors of ``window`` frames from each of ``clips`` beginning at ``starts``."""
    idx = starts[:, None] + np.arange(window)[None]
    out = {}
    for k, v in data.items():
        out[k] = torch.as_tensor(v[clips] if k == "betas" else v[clips[:, None], idx])
    out["flow"] = out["flow"].float()
    return out


def losses(model: Lifter, skeleton: TorchSkeleton, batch: dict[str, torch.Tensor], options: TrainOptions) -> dict[str, torch.Tensor]:
    out = model({k: batch[k] for k in INPUT_KEYS})
    joints = skeleton(out["rotations"], out["betas"])
    truth_rot = quaternion_to_matrix(batch["rotations"])
    terms = {
        "pa_3d": pa_joint_error(joints, batch["joints"]),
        "reprojection": reprojection_error(joints, out["camera"], batch["joints2d"], ~batch["occluded"]),
        "rotation": rotation_error(out["rotations"], truth_rot),
        "betas": ((out["betas"] - batch["betas"][:, None]) ** 2).mean(),
    }
    terms["total"] = (options.weight_3d * terms["pa_3d"] + options.weight_2d * terms["reprojection"]
                      + options.weight_rotation * terms["rotation"] + options.weight_betas * terms["betas"])
    return terms


def save_weights(path: Path, model: Lifter, extra: dict | None = None) -> None:
    """``lifter.pt``: the state dict and the config (and ``extra`` metadata)."""
    with atomic_output(path) as tmp:
        torch.save({"config": model.config.to_dict(), "state": model.state_dict(), "extra": extra or {}}, tmp)


def load_lifter(path: str | Path) -> Lifter:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = Lifter(LifterConfig.from_dict(saved["config"]))
    model.load_state_dict(saved["state"])
    return model.eval()


def train_lifter(
    data_dir: str | Path, run_dir: str | Path, config: LifterConfig = LifterConfig(), options: TrainOptions = TrainOptions(),
    resume: bool = False, progress: Progress | None = None, command: str = "",
) -> dict:
    """Train (or resume) into ``run_dir``; returns the summary also written to ``train.json``."""
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    data = load_dataset(data_dir, options.max_clips)
    clips, frames = data["betas"].shape[0], data["occluded"].shape[1]
    if frames < config.window:
        raise ValueError(f"{data_dir}: clips have {frames} frames, fewer than the window of {config.window}")
    model = Lifter(config)
    skeleton = TorchSkeleton()
    optimiser = torch.optim.Adam(model.parameters(), lr=options.learning_rate)
    step, elapsed = 0, 0.0
    checkpoint = run / "checkpoint.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        if LifterConfig.from_dict(state["config"]) != config:
            raise ValueError(f"{checkpoint}: made with another lifter configuration")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step, elapsed = state["step"], state["elapsed"]
        rng = np.random.default_rng([options.seed, step])
        torch.manual_seed(options.seed + step)
    budget = options.minutes * 60.0
    start = time.monotonic() - elapsed
    last_save = time.monotonic()
    log_path = run / "progress.csv"
    log_new = not log_path.exists() or not resume
    log = log_path.open("w" if log_new else "a", newline="")
    writer = csv.writer(log)
    if log_new:
        writer.writerow(["step", "seconds", "samples", "total", "pa_3d_mm", "reprojection", "rotation", "learning_rate"])

    def save_checkpoint() -> None:
        with atomic_output(checkpoint) as tmp:
            torch.save({"config": config.to_dict(), "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                        "step": step, "elapsed": time.monotonic() - start}, tmp)

    model.train()
    try:
        while time.monotonic() - start < budget and (options.steps is None or step < options.steps):
            fraction = (time.monotonic() - start) / budget if options.steps is None else step / options.steps
            lr = options.learning_rate * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0)))
            for group in optimiser.param_groups:
                group["lr"] = lr
            picks = rng.integers(0, clips, options.batch)
            starts = rng.integers(0, frames - config.window + 1, options.batch)
            terms = losses(model, skeleton, batch_of(data, picks, starts, config.window), options)
            optimiser.zero_grad()
            terms["total"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimiser.step()
            step += 1
            if step % 20 == 0:
                seconds = time.monotonic() - start
                writer.writerow([step, round(seconds, 1), step * options.batch * config.window, float(terms["total"].detach()),
                                 1000 * float(terms["pa_3d"].detach()), float(terms["reprojection"].detach()), float(terms["rotation"].detach()), lr])
                log.flush()
                if progress:
                    progress(int(min(seconds, budget)), int(budget))
            if time.monotonic() - last_save > options.checkpoint_minutes * 60:
                save_checkpoint()
                last_save = time.monotonic()
    finally:
        save_checkpoint()
        log.close()
    wall = time.monotonic() - start
    summary = {
        "command": command,
        "data": str(data_dir),
        "dataset": json.loads((Path(data_dir) / "dataset.json").read_text()) if (Path(data_dir) / "dataset.json").exists() else None,
        "config": config.to_dict(),
        "options": asdict(options),
        "steps": step,
        "samples": step * options.batch * config.window,
        "wall_clock_minutes": round(wall / 60, 2),
        "threads": torch.get_num_threads(),
    }
    model.eval()
    save_weights(run / "lifter.pt", model, summary)
    (run / "train.json").write_text(json.dumps(summary, indent=1))
    return summary
