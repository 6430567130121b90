"""Training throughput of ``vidmimic run``'s per-clip training against ``vidmimic train``, in one run.

    python benchmarks/run_vs_train.py [--timesteps 40960] [--workers 2] [--repeats 2]

Generates the demo's sample video, then alternates ``vidmimic run VIDEO --from-scratch`` (its
training stage) and ``vidmimic train OUT/motion.txt`` on the motion that run retargeted, with the
same workers and sample budget, ``--repeats`` times each (a new job folder and seed each time). Reads samples/s from each run folder's progress.csv (the last
row: PPO updates included). Prints JSON with the medians and their ratio.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def _samples_per_s(run_dir: Path) -> float:
    with (run_dir / "progress.csv").open() as f:
        return float(list(csv.DictReader(f))[-1]["samples_per_s"])


def _vidmimic(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], check=True, capture_output=True)


def main() -> int:
    from app.sample_video import write_sample_video

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=40960)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    budget = ["--workers", str(args.workers)]
    rates: dict[str, list[float]] = {"run": [], "train": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = write_sample_video(work / "sample_walk.webm")
        for seed in range(args.repeats):
            job = work / f"job_{seed}"
            _vidmimic("run", str(video), "-o", str(job), "--from-scratch", "--estimator", "mediapipe_ik", "--seed", str(seed),
                      "--train-timesteps", str(args.timesteps), "--train-minutes", "30", *budget)
            rates["run"].append(_samples_per_s(job / "train"))
            alone = work / f"train_{seed}"
            _vidmimic("train", str(job / "motion.txt"), "-o", str(alone), "--seed", str(seed), "--timesteps", str(args.timesteps), *budget)
            rates["train"].append(_samples_per_s(alone))
    run, train = statistics.median(rates["run"]), statistics.median(rates["train"])
    print(json.dumps({"workers": args.workers, "timesteps": args.timesteps, "samples_per_s": rates,
                      "median_run": round(run, 1), "median_train": round(train, 1), "run_over_train": round(run / train, 3)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
