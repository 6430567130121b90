"""``vidmimic estimator train``: fit the lifter on a synthetic dataset within a time budget.

Batches are random ``window``-frame pieces of the dataset's clips. The loss is the paper's
two — Procrustes-aligned 3D joint error and 2D reprojection error — plus a rotation loss on
the 24 SMPL rotations (what the character uses) and a small pull of the shape towards the
truth. The learning rate follows a cosine over the time budget (or the step budget, if given), so a
budget is a schedule.

Sim-to-real and motion-prior options (each off by default; ``--help`` of ``vidmimic estimator
train`` names them): a sim+real batch mixture with 2D-only losses on real clips (SimPose,
``sim2real``), an adversarial teacher choosing groups of synthetic clips (``lifter_teacher``), a
SimGAN refiner of the synthetic keypoint tracks (``lifter_refiner``), DANN's domain classifier
(``sim2real``) and VIBE's motion discriminator (``motion_prior``). Real clips come from a folder
of unlabelled videos (``real_clips``).

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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from characters.errors import atomic_output
from lifter_research.body_model import TorchSkeleton
from lifter_research.lifter import Lifter, LifterConfig, synthetic_confidence
from lifter_research.lifter_losses import camera_frame_joint_error, pa_joint_error, reprojection_error, rotation_error
from lifter_research.lifter_options import TrainOptions
from lifter_research.lifter_techniques import Techniques
from lifter_research.synthetic_dataset import load_dataset
from pose_estimation.lifter_numpy import file_sha256, numpy_arrays, numpy_weights_path

Progress = Callable[[int, int], None]
INPUT_KEYS = ("keypoints", "confidence", "occluded", "flow")
EXTRA_COLUMNS = ("real_2d", "temporal", "domain", "motion_adversarial", "camera_frame_3d_mm")
"""progress.csv columns of the optional techniques' weighted losses and the optional camera-frame
joint error in mm (blank when off)."""


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
    """The synthetic losses of ``model`` on ``batch``."""
    return synthetic_losses(model({k: batch[k] for k in INPUT_KEYS}), skeleton, batch, options)


def synthetic_losses(out: dict[str, torch.Tensor], skeleton: TorchSkeleton, batch: dict[str, torch.Tensor], options: TrainOptions) -> dict[str, torch.Tensor]:
    """Every loss with 3D truth; ``total`` their weighted sum."""
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
    if options.weight_camera_frame_3d:
        terms["camera_frame_3d"] = camera_frame_joint_error(joints, batch["joints"])
        terms["total"] = terms["total"] + options.weight_camera_frame_3d * terms["camera_frame_3d"]
    return terms


def save_weights(path: Path, model: Lifter, extra: dict | None = None) -> None:
    """``lifter.pt``: the state dict and the config (and ``extra`` metadata); and ``lifter.npz``
    beside it, the copy ``vidmimic estimate`` runs without torch (``lifter_numpy``)."""
    with atomic_output(path) as tmp:
        torch.save({"config": model.config.to_dict(), "state": model.state_dict(), "extra": extra or {}}, tmp)
    write_numpy_weights(path)


def write_numpy_weights(weights: str | Path) -> Path:
    """Write ``lifter.npz`` beside the torch weights ``weights`` (imports torch); returns its path."""
    model = load_lifter(weights)
    arrays = numpy_arrays(model.state_dict(), model.config.channels)
    out = numpy_weights_path(weights)
    meta = {"config": model.config.to_dict(), "source_sha256": file_sha256(weights)}
    with atomic_output(out) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
    return out


def load_datasets(folders: list[Path], max_clips: int | None = None) -> dict[str, np.ndarray]:
    """The clips of every folder, pooled (``max_clips``: the first N of the pool)."""
    parts = [load_dataset(f, max_clips) for f in folders]
    frames = {p["occluded"].shape[1] for p in parts}
    if len(frames) > 1:
        raise ValueError(f"datasets with different clip lengths ({sorted(frames)} frames) cannot be pooled")
    pooled = parts[0] if len(parts) == 1 else {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return {k: v[:max_clips] for k, v in pooled.items()} if max_clips else pooled


def load_lifter(path: str | Path) -> Lifter:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = Lifter(LifterConfig.from_dict(saved["config"]))
    model.load_state_dict(saved["state"])
    return model.eval()


def train_lifter(
    data_dir: str | Path | list, run_dir: str | Path, config: LifterConfig = LifterConfig(), options: TrainOptions = TrainOptions(),
    resume: bool = False, progress: Progress | None = None, command: str = "", init: str | Path | None = None,
) -> dict:
    """Train (or resume) into ``run_dir`` on one dataset folder or several (their clips pooled);
    returns the summary also written to ``train.json``. ``init``: lifter weights to start from
    (the same network; the window may differ; the learning-rate schedule starts afresh)."""
    folders = [Path(d) for d in (data_dir if isinstance(data_dir, (list, tuple)) else [data_dir])]
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    data = load_datasets(folders, options.max_clips)
    data["confidence"] = synthetic_confidence(data["confidence"], config.confidence_model)
    clips, frames = data["betas"].shape[0], data["occluded"].shape[1]
    if frames < config.window:
        raise ValueError(f"{', '.join(map(str, folders))}: clips have {frames} frames, fewer than the window of {config.window}")
    model = Lifter(config)
    if init is not None:
        start_from = load_lifter(init)
        if not start_from.config.same_network(config):
            raise ValueError(f"{init}: another network ({start_from.config.to_dict()}) than this run's ({config.to_dict()})")
        model.load_state_dict(start_from.state_dict())
    skeleton = TorchSkeleton()
    techniques = Techniques(options, config, data, run)
    optimiser = torch.optim.Adam(list(model.parameters()) + techniques.trained_parameters(), lr=options.learning_rate)
    step, elapsed = 0, 0.0
    checkpoint = run / "checkpoint.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        if LifterConfig.from_dict(state["config"]) != config:
            raise ValueError(f"{checkpoint}: made with another lifter configuration")
        plain = {k: False for k in options.technique_flags()}  # checkpoints from before the techniques existed
        if state.get("techniques", plain) != options.technique_flags():
            raise ValueError(f"{checkpoint}: made with other training techniques ({state.get('techniques')})")
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        if "technique_state" in state:
            techniques.load_state_dict(state["technique_state"])
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
        writer.writerow(["step", "seconds", "samples", "total", "pa_3d_mm", "reprojection", "rotation", "learning_rate", *EXTRA_COLUMNS])

    def save_checkpoint() -> None:
        with atomic_output(checkpoint) as tmp:
            torch.save({"config": config.to_dict(), "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                        "step": step, "elapsed": time.monotonic() - start, "techniques": options.technique_flags(),
                        "technique_state": techniques.state_dict()}, tmp)

    def synthetic_batch() -> dict[str, torch.Tensor]:
        picks = techniques.rng.integers(0, clips, options.batch)
        return batch_of(data, picks, techniques.rng.integers(0, frames - config.window + 1, options.batch), config.window)

    techniques.pretrain_refiner(synthetic_batch)
    model.train()
    try:
        while time.monotonic() - start < budget and (options.steps is None or step < options.steps):
            fraction = min((time.monotonic() - start) / budget if options.steps is None else step / options.steps, 1.0)
            lr = options.learning_rate * 0.5 * (1 + math.cos(math.pi * fraction))
            for group in optimiser.param_groups:
                group["lr"] = lr
            group_index, picks = techniques.pick(rng, clips, options.batch)
            starts = rng.integers(0, frames - config.window + 1, options.batch)
            batch = batch_of(data, picks, starts, config.window)
            inputs, split, real = techniques.network_inputs(batch, INPUT_KEYS)
            out = model(inputs)
            terms = synthetic_losses({k: v[:split] for k, v in out.items()}, skeleton, batch, options)
            extra = techniques.extra_losses(out, split, real, skeleton, fraction)
            total = terms["total"] + sum(extra.values())
            optimiser.zero_grad()
            total.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimiser.step()
            techniques.after_step(group_index, float(terms["total"].detach()))
            step += 1
            if step % 20 == 0:
                seconds = time.monotonic() - start
                logged = {**extra, **({"camera_frame_3d_mm": 1000 * terms["camera_frame_3d"]} if "camera_frame_3d" in terms else {})}
                writer.writerow([step, round(seconds, 1), step * options.batch * config.window, float(total.detach()),
                                 1000 * float(terms["pa_3d"].detach()), float(terms["reprojection"].detach()), float(terms["rotation"].detach()), lr,
                                 *(f"{float(logged[k].detach()):.5g}" if k in logged else "" for k in EXTRA_COLUMNS)])
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
        "data": str(folders[0]) if len(folders) == 1 else [str(f) for f in folders],
        "dataset": [json.loads((f / "dataset.json").read_text()) if (f / "dataset.json").exists() else None for f in folders]
        if len(folders) > 1 else (json.loads((folders[0] / "dataset.json").read_text()) if (folders[0] / "dataset.json").exists() else None),
        "config": config.to_dict(),
        "init": str(init) if init is not None else None,
        "options": asdict(options),
        "steps": step,
        "samples": step * options.batch * config.window,
        "wall_clock_minutes": round(wall / 60, 2),
        "threads": torch.get_num_threads(),
        **techniques.summary(),
    }
    model.eval()
    save_weights(run / "lifter.pt", model, summary)
    (run / "train.json").write_text(json.dumps(summary, indent=1))
    return summary
