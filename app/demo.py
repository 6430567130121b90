"""``vidmimic demo``: ``vidmimic run`` on a sample video the project generates itself.

1. ``sample_walk.webm``: a clothed figure walking DeepMimic's walk clip past a camera on a
   tripod (``app.sample_video``; MediaPipe finds it in every frame).
2. ``vidmimic run`` on it: keypoints, flow and the 3D estimate, retargeting onto the character,
   a short PPO training warm-started from ``policies/sample_walk/policy.zip`` (made by
   ``vidmimic train`` on the very motion this video's estimate gives), replay, evaluation,
   exports and ``report.html``.

Everything lands in the output folder; ``summary.json`` holds the figures.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from app.progress import ProgressBar
from app.run import WALK_ESTIMATOR, RunOptions, run_pipeline, walk_cycle_options
from app.sample_video import write_sample_video
from characters.places import POLICIES

SAMPLE_POLICY = POLICIES / "sample_walk" / "policy.zip"
DEMO_TRAIN_MINUTES = 2.0
DEMO_ESTIMATOR = WALK_ESTIMATOR


def run_demo(out_dir: str | Path, train_minutes: float = DEMO_TRAIN_MINUTES, workers: int | None = None) -> dict:
    """Run the demo into ``out_dir``; returns the summary that is also written to ``summary.json``."""
    start = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    video = out / "sample_walk.webm"
    if not video.exists():
        write_sample_video(video, progress=ProgressBar("sample video"))
    workers = workers or min(2, os.cpu_count() or 1)
    init = str(SAMPLE_POLICY) if SAMPLE_POLICY.exists() else None
    # The sample policy was trained on the cycle MediaPipe-IK's estimate gives (the default then):
    # the demo keeps that estimator so its cycle stays the policy's (policies/sample_walk/README.md).
    options = walk_cycle_options(RunOptions(train_minutes=train_minutes, workers=workers, init_policy=init, evaluation_episodes=5, estimator=DEMO_ESTIMATOR))
    report = run_pipeline(video, out, options)
    summary = {
        "video": str(video),
        "warm_start": init,
        "train_minutes": train_minutes,
        "workers": workers,
        "evaluation": report["evaluation"],
        "report": str(out / "report.html"),
        "replay": str(out / "replay.webm"),
        "replay_outcome": report["replay"],
        "wall_clock_s": round(time.monotonic() - start, 1),
        "files": report["files"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
