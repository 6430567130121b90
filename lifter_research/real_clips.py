"""Real, unlabelled videos as lifter inputs: the target domain of the sim-to-real training options.

Each video of a folder goes through the video front end once (MediaPipe keypoints, the person
box, crop flow) and becomes the lifter's input arrays (``lifter_estimator.crop_inputs``). No 3D
truth exists: the options use them for 2D-only losses (SimPose), as a domain to confuse (DANN)
or as the "real" side of a discriminator (the refiner). The evaluation recording of the real
harness is refused: it never enters training.

The prepared arrays are cached in one ``.npz`` keyed by the videos' content hashes, so
re-running (or resuming) training does not run the front end again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from characters.errors import atomic_output
from characters.places import file_sha256
from lifter_research.real_harness import DATA as EVALUATION_RECORDING

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"}
INPUT_KEYS = ("keypoints", "confidence", "occluded", "flow")
Progress = Callable[[int, int], None]


def video_files(folder: str | Path) -> list[Path]:
    """The videos of ``folder`` (sorted); refuses an empty folder and the evaluation recording."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder of videos")
    videos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not videos:
        raise ValueError(f"{folder}: no videos ({', '.join(sorted(VIDEO_SUFFIXES))})")
    recording = EVALUATION_RECORDING.resolve()
    for video in videos:
        if video.resolve().is_relative_to(recording):
            raise ValueError(f"{video}: part of the evaluation recording, which is never used for training")
    return videos


def prepare_real_inputs(folder: str | Path, cache: str | Path, max_frames: int | None = None, progress: Progress | None = None) -> list[dict[str, np.ndarray]]:
    """Per video of ``folder``, the lifter's input arrays (``keypoints (T, 17, 2)``, ``confidence (T, 17)``,
    ``occluded (T,)``, ``flow (T, 32, 32, 2)``), computed once and cached in ``cache`` (an ``.npz``)."""
    from pose_estimation.estimate import run_front_end
    from pose_estimation.lifter_estimator import crop_inputs

    videos = video_files(folder)
    key = {"videos": [[v.name, file_sha256(v)] for v in videos], "max_frames": max_frames}
    cache = Path(cache)
    if cache.exists():
        with np.load(cache) as saved:
            if json.loads(str(saved["key"])) == key:
                return [{k: saved[f"{k}_{i}"] for k in INPUT_KEYS} for i in range(len(videos))]
    clips = []
    for i, video in enumerate(videos):
        front = run_front_end(video, max_frames=max_frames)
        kp = front.keypoints
        inputs = crop_inputs(kp.keypoints, kp.confidence, kp.bbox, kp.occluded, front.flow)
        clips.append({k: inputs[k] for k in INPUT_KEYS})
        if progress:
            progress(i + 1, len(videos))
    with atomic_output(cache) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, key=json.dumps(key), **{f"{k}_{i}": clip[k] for i, clip in enumerate(clips) for k in INPUT_KEYS})
    return clips


def real_batch(clips: list[dict[str, np.ndarray]], rng: np.random.Generator, batch: int, window: int) -> dict[str, torch.Tensor]:
    """``batch`` random ``window``-frame pieces of the real clips (clips drawn in proportion to their length)."""
    usable = [c for c in clips if len(c["occluded"]) >= window]
    if not usable:
        raise ValueError(f"every real video is shorter than the window of {window} frames")
    lengths = np.array([len(c["occluded"]) - window + 1 for c in usable], dtype=float)
    picks = rng.choice(len(usable), size=batch, p=lengths / lengths.sum())
    out: dict[str, list[np.ndarray]] = {k: [] for k in INPUT_KEYS}
    for p in picks:
        start = int(rng.integers(0, len(usable[p]["occluded"]) - window + 1))
        for k in INPUT_KEYS:
            out[k].append(usable[p][k][start : start + window])
    tensors = {k: torch.as_tensor(np.stack(v)) for k, v in out.items()}
    tensors["flow"] = tensors["flow"].float()
    return tensors
