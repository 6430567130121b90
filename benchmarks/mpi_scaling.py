"""Training throughput with 1 and 2 MPI ranks: samples/s of ``vidmimic train`` on the walk clip.

    python benchmarks/mpi_scaling.py [--timesteps 40960]

Runs the real command twice (``--workers 1`` and ``--workers 2``, 8 environments, the same
PPO settings) into temporary folders and reads the last samples/s of progress.csv (which
includes PPO updates). Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pybullet_data

WALK = Path(pybullet_data.getDataPath()) / "data" / "motions" / "humanoid3d_walk.txt"


def run(workers: int, timesteps: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "app.cli", "train", str(WALK), "-o", tmp + "/run", "--workers", str(workers), "--timesteps", str(timesteps), "--envs", "8", "--n-steps", "512"]
        subprocess.run(cmd, check=True, capture_output=True)
        with open(tmp + "/run/progress.csv") as f:
            rows = list(csv.DictReader(f))
    return {"workers": workers, "samples_per_s": float(rows[-1]["samples_per_s"]), "steps": int(rows[-1]["steps"]), "wall_s": float(rows[-1]["wall_s"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=40960)
    args = parser.parse_args()
    one, two = run(1, args.timesteps), run(2, args.timesteps)
    print(json.dumps({"one_rank": one, "two_ranks": two, "speedup": two["samples_per_s"] / one["samples_per_s"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
