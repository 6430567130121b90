"""Samples and wall-clock until a training run's policy meets the walk thresholds.

    python benchmarks/learning_curve.py RUN_DIR [--snapshots DIR] [--episodes 20] [--seconds 10]

Evaluates every checkpoint copy in RUN_DIR/snapshots (or DIR) with ``vidmimic evaluate``'s
procedure, in step order, and prints JSON: one row per snapshot (steps, wall-clock from
RUN_DIR/progress.csv, falls, body position error) and the first snapshot with at most
2 falls and a mean body position error of at most 60 mm.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import zipfile
from pathlib import Path

from control.evaluate import evaluate

MAX_FALLS = 2
MAX_BODY_ERROR_MM = 60.0


def snapshot_steps(path: Path) -> int:
    with zipfile.ZipFile(path) as z:
        return int(json.loads(z.read("data"))["num_timesteps"])


def wall_clock(run_dir: Path) -> dict[int, float]:
    """Cumulative wall-clock (s) at each logged step count; resumed runs are summed across restarts."""
    out: dict[int, float] = {}
    path = run_dir / "progress.csv"
    if not path.exists():
        return out
    total, previous = 0.0, 0.0
    with path.open() as f:
        for row in csv.DictReader(f):
            wall = float(row["wall_s"])
            total += wall - previous if wall >= previous else wall  # a restart resets the clock
            previous = wall
            out[int(row["steps"])] = total
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--snapshots", type=Path)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    folder = args.snapshots or args.run_dir / "snapshots"
    snaps = sorted(folder.glob("*.zip"), key=snapshot_steps)
    clock = wall_clock(args.run_dir)
    rows = []
    first = None
    for snap in snaps:
        steps = snapshot_steps(snap)
        result = evaluate(snap, episodes=args.episodes, seconds=args.seconds)
        logged = [s for s in clock if s <= steps]
        row = {
            "steps": steps,
            "wall_clock_min": round(clock[max(logged)] / 60, 1) if logged else None,
            "falls": result["falls"],
            "mean_body_pos_error_mm": round(result["mean_body_pos_error_mm"], 1),
            "mean_pose_error_deg": round(result["mean_pose_error_deg"], 2),
            "mean_episode_seconds": round(result["mean_episode_seconds"], 2),
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if first is None and row["falls"] <= MAX_FALLS and row["mean_body_pos_error_mm"] <= MAX_BODY_ERROR_MM:
            first = row
    print(json.dumps({"run": str(args.run_dir), "thresholds": {"falls": MAX_FALLS, "body_pos_error_mm": MAX_BODY_ERROR_MM}, "first_meeting": first, "snapshots": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
