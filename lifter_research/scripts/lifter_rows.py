"""What the lifter's table commands share: datasets, training a row, scoring a row.

Used by ``lifter_research/scripts/lifter_tables.py`` and ``lifter_research/scripts/estimator_ablation.py``; every step is
a ``vidmimic`` command, and finished datasets and rows are reused when a command runs again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TECHNIQUE_FLAGS = {"sim_real_mix": "--sim-real-mix", "adversarial_teacher": "--adversarial-teacher", "refiner": "--refiner",
                   "dann": "--dann", "motion_discriminator": "--motion-discriminator"}
NEEDS_REAL = {"sim_real_mix", "refiner", "dann"}


def technique_flags(on: list[str] | tuple[str, ...] = (), real_videos: Path | None = None) -> list[str]:
    """Every training technique named on or off explicitly, so a row does not depend on the defaults."""
    flags = [flag if name in on else flag.replace("--", "--no-", 1) for name, flag in TECHNIQUE_FLAGS.items()]
    return flags + (["--real-videos", str(real_videos)] if NEEDS_REAL & set(on) else [])


def add_common_arguments(parser: argparse.ArgumentParser, steps: int, clips: int) -> None:
    """The options both table commands take (``steps`` and ``clips``: their defaults)."""
    parser.add_argument("--work", type=Path, required=True, help="folder for datasets and trained rows (the two commands can share one)")
    parser.add_argument("--steps-per-row", type=int, default=steps, help="equal training for every row")
    parser.add_argument("--minutes-per-row", type=float, default=30.0, help="time cap per row")
    parser.add_argument("--clips", type=int, default=clips, help="clips of the full synthetic training set")
    parser.add_argument("--heldout-clips", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="processes for data generation")
    parser.add_argument("--no-real", action="store_true", help="skip the real harness")
    parser.add_argument("--markdown", type=Path, help="also write the table(s) here")


def vidmimic(*args: str) -> None:
    print("+ vidmimic " + " ".join(args), file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "app.cli", *args], check=True, cwd=ROOT, stdout=sys.stderr)  # stdout stays the JSON result


def make_datasets(work: Path, clips: int, heldout_clips: int, workers: int) -> tuple[Path, Path]:
    """The full synthetic training set and the held-out test set in ``work``."""
    vidmimic("estimator", "data", str(work / "data_heldout"), "--clips", str(heldout_clips), "--seed", "1000", "--held-out", "--workers", str(workers))
    vidmimic("estimator", "data", str(work / "data_full"), "--clips", str(clips), "--seed", "0", "--workers", str(workers))
    return work / "data_full", work / "data_heldout"


def train_row(run: Path, data: Path | list[Path], steps: int, minutes: float, *extra: str) -> None:
    """``vidmimic estimator train`` into ``run`` unless it already holds weights; a row stopped
    before its end (its checkpoint but no weights: the machine or the session stopped) resumes."""
    if (run / "lifter.pt").exists():
        return
    folders = [str(d) for d in (data if isinstance(data, list) else [data])]
    resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
    vidmimic("estimator", "train", *folders, "-o", str(run), "--steps", str(steps), "--minutes", str(minutes), *extra, *resume)


def score_row(run: Path, heldout: Path, views, baseline_frames: list | None = None, people: dict | None = None) -> dict:
    """Training time and command of a row (from its ``train.json``) and :func:`score_weights` of its weights."""
    summary = json.loads((run / "train.json").read_text())
    return {"training": f"{summary['wall_clock_minutes']:.1f} min, {summary['steps']} steps", "command": summary.get("command", ""),
            **score_weights(run / "lifter.pt", heldout, views, baseline_frames, people)}


def score_weights(weights: Path, heldout: Path, views, baseline_frames: list | None = None, people: dict | None = None) -> dict:
    """Held-out synthetic scores and (with ``views``) real-harness scores of lifter ``weights``;
    with ``baseline_frames`` (the baseline's per-frame errors from
    :func:`lifter_research.real_harness.score_estimator`) also the paired difference to it; with
    ``people`` (name → the views of one person of a multi-person recording) also ``real_pooled``:
    the mean over all views of ``views`` and ``people`` and the paired difference to MediaPipe-IK."""
    import numpy as np

    from lifter_research.lifter_evaluate import evaluate_synthetic
    from lifter_research.lifter_train import load_lifter
    from lifter_research.paired_bootstrap import paired_block_bootstrap
    from lifter_research.real_harness import score_estimator
    from pose_estimation.lifter_estimator import lifter_estimator

    entry = {"synthetic": evaluate_synthetic(load_lifter(weights), heldout)}
    if views is not None:
        frames: list = []
        entry["real"] = score_estimator(views, lifter_estimator(weights), frames)
        if baseline_frames is not None:
            entry["real_minus_mediapipe_ik"] = paired_block_bootstrap(np.stack(frames), np.stack(baseline_frames))
        if people:
            from lifter_research.real_harness import compare_recordings
            from pose_estimation.estimate import mediapipe_ik

            estimators = {"lifter": lifter_estimator(weights), "mediapipe_ik": mediapipe_ik}
            entry["real_pooled"] = compare_recordings({"single": views, **people}, estimators, [("lifter", "mediapipe_ik")])["pooled"]
    return entry
