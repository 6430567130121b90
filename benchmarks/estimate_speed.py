"""Frames per second of the whole ``vidmimic estimate`` command, before and after its pipelining, in one run.

    python benchmarks/estimate_speed.py [VIDEO] [--estimator fused|lifter|mediapipe_ik] [--max-frames N] [--repeats N]

VIDEO defaults to ``../shared/data/video/sports2d_demo.mp4`` (1768x994, 30 frames/s, 230 frames).
Runs the real command, as a user does, for each front end: ``before`` is the sequential
reference (``VIDMIMIC_SEQUENTIAL_ESTIMATE=1``: the subject's pass, then decode, pose and flow one
frame after another, then the overlay from a third decode), ``after`` the default pipelined one
(``pose_estimation/pipeline.py``). For each it prints the whole command's wall clock and frames/s
(start-up, writing and both videos included), the start-up (the command's wall clock less the
``estimate`` call's own: interpreter, imports, exit) and the seconds of work per stage from the
command's summary (the pipelined stages overlap, so they add up to more than the wall clock).
With ``--repeats`` the two alternate and each figure is the median. It also checks that the two
wrote the same estimate (keypoints, flow and motion files, bit for bit). The machine's load average
at the start is printed too: figures taken beside another job are not the command's speed.
Prints JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VIDEO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "video" / "sports2d_demo.mp4"
SEQUENTIAL_ENV = "VIDMIMIC_SEQUENTIAL_ESTIMATE"  # pose_estimation.estimate.SEQUENTIAL_ENV (not imported: this script stays light)


def run_once(video: Path, out: Path, estimator: str, max_frames: int | None, sequential: bool) -> dict:
    """One ``vidmimic estimate`` into ``out`` in a fresh interpreter: its wall clock and its summary."""
    env = {**os.environ, SEQUENTIAL_ENV: "1" if sequential else "0"}
    command = [sys.executable, "-m", "app.cli", "estimate", str(video), "-o", str(out), "--estimator", estimator]
    if max_frames:
        command += ["--max-frames", str(max_frames)]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"vidmimic estimate failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    return {"wall": wall, "summary": summary}


def same_estimate(a: Path, b: Path) -> bool:
    """Whether two estimates' keypoints, flow and motion files hold the same arrays, bit for bit."""
    import numpy as np

    for name in ("keypoints.npz", "flow.npz", "motion_smpl.npz"):
        with np.load(a / name) as x, np.load(b / name) as y:
            if x.files != y.files or not all(np.array_equal(x[k], y[k]) for k in x.files):
                return False
    return True


def median_figures(runs: list[dict]) -> dict:
    """The median of each figure over repeated runs of one front end."""
    frames = runs[0]["summary"]["frames"]
    walls = [r["wall"] for r in runs]
    stages = runs[0]["summary"]["seconds_by_stage"]
    return {
        "front_end": runs[0]["summary"]["front_end"],
        "whole_command_seconds": round(statistics.median(walls), 3),
        "whole_command_fps": round(frames / statistics.median(walls), 2),
        "start_up_seconds": round(statistics.median(r["wall"] - r["summary"]["seconds"] for r in runs), 3),
        "estimate_call_seconds": round(statistics.median(r["summary"]["seconds"] for r in runs), 3),
        "stage_seconds": {s: round(statistics.median(r["summary"]["seconds_by_stage"][s] for r in runs), 3) for s in stages},
    }


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path, nargs="?", default=VIDEO)
    parser.add_argument("--estimator", default="fused", help="fused (the default of vidmimic estimate), lifter or mediapipe_ik")
    parser.add_argument("--max-frames", type=int, help="only the first N frames (a quick check; the figures are for the whole video)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each front end, alternating (default 1)")
    args = parser.parse_args()
    if not args.video.is_file():
        print(f"error: {args.video}: no such file", file=sys.stderr)
        return 2
    load = os.getloadavg()
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(max(1, args.repeats)):
            for name in ("before", "after"):
                out = Path(tmp) / f"{name}{i}"
                runs[name].append(run_once(args.video, out, args.estimator, args.max_frames, sequential=name == "before"))
        identical = same_estimate(Path(tmp) / "before0", Path(tmp) / "after0")
    before, after = median_figures(runs["before"]), median_figures(runs["after"])
    print(json.dumps({
        "video": args.video.name,
        "estimator": args.estimator,
        "frames": runs["after"][0]["summary"]["frames"],
        "repeats": max(1, args.repeats),
        "cpus": os.cpu_count(),
        "load_average_1min_at_start": round(load[0], 2),
        "before": before,
        "after": after,
        "estimates_identical": identical,  # keypoints.npz, flow.npz and motion_smpl.npz, bit for bit
        "speed_up": round(before["whole_command_seconds"] / after["whole_command_seconds"], 2),
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
