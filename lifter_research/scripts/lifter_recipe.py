"""The lifter's one-command training recipe: its datasets and its training options.

The tables (``lifter_research/scripts/lifter_tables.py``) train every row with this recipe, changing only
what the row is about (the inputs, the window, the training data's distractors), so the
tables' flow + keypoints row is a lifter made the way shipped weights are made.

The four training sets (12 000 clips of 64 frames) are ``vidmimic estimator data`` with these
arguments; a distractor variant adds its flag to each. The held-out set is the one every
figure in docs/estimator.md since 2026-11-28 is measured on.
"""

from __future__ import annotations

from pathlib import Path

DATASETS: dict[str, list[str]] = {
    "base": ["--clips", "2000", "--seed", "30"],
    "aug": ["--clips", "2000", "--seed", "31", "--part-swap", "0.7", "--joint-noise", "0.25"],
    "pose": ["--clips", "4000", "--seed", "32", "--limb-poses", "0.8", "--torso-bends", "0.6", "--part-swap", "0.3", "--joint-noise", "0.15"],
    "turn": ["--clips", "4000", "--seed", "33", "--body-turns", "0.8", "--limb-poses", "0.6", "--torso-bends", "0.4",
             "--part-swap", "0.3", "--joint-noise", "0.15"],
}
"""Training sets by name: arguments of ``vidmimic estimator data`` after the folder."""

VARIANTS: dict[str, list[str]] = {
    "full": [],
    "static": ["--static-background"],
    "no_occlusion": ["--no-occluders", "--no-total-occlusion"],
}
"""Table 2's training-data variants: flags added to every training set's arguments."""

HELDOUT = ["--clips", "200", "--seed", "1000", "--held-out", "--camera-distance", "2.5", "8", "--camera-height", "0.3", "2.0"]

TRAIN = ["--weight-camera-frame-3d", "10", "--confidence-model", "mediapipe"]
"""Training options besides the data, the step budget and the row's own change."""

TECHNIQUES_ON = ("sim_real_mix",)
"""Sim-to-real techniques the recipe uses (the others are named off explicitly)."""


def dataset_folders(work: Path, variant: str = "full") -> list[Path]:
    """The recipe's training-set folders of ``variant`` inside ``work``."""
    suffix = "" if variant == "full" else f"_{variant}"
    return [work / f"data_{name}{suffix}" for name in DATASETS]


def scaled(args: list[str], scale: float) -> list[str]:
    """``args`` with the ``--clips`` count multiplied by ``scale`` (at least 1 clip)."""
    if scale == 1.0:
        return list(args)
    out = list(args)
    at = out.index("--clips") + 1
    out[at] = str(max(1, round(int(out[at]) * scale)))
    return out


def dataset_commands(work: Path, variant: str = "full", workers: int = 2, scale: float = 1.0) -> list[list[str]]:
    """``vidmimic`` argument lists that make (or finish) the training sets of ``variant``
    (``scale``: a fraction of the recipe's clips, for trials of the commands)."""
    return [["estimator", "data", str(folder), *scaled(args, scale), *VARIANTS[variant], "--workers", str(workers)]
            for folder, args in zip(dataset_folders(work, variant), DATASETS.values())]
