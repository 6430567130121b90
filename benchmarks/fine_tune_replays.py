"""Does a little more training tip a policy over? Fine-tune it briefly with several seeds and replay each.

    python benchmarks/fine_tune_replays.py POLICY [--runs 8] [--timesteps 8192] [--learning-rate LR]

Each run is ``vidmimic train MOTION --init POLICY --timesteps T --seed S`` on the policy's own
motion (as ``vidmimic demo`` does for two minutes) followed by a 10-s replay from the clip's
start. Prints JSON: per seed whether the replay fell and when, and how many of the runs walked
the whole replay. ``--learning-rate`` replaces the policy's own step size for the fine-tuning.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("policy", type=Path)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=8192)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not args.policy.is_file():
        print(f"vidmimic: error: {args.policy}: no such file", file=sys.stderr)
        return 2
    from control.evaluate import replay
    from control.train import policy_motion_text

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        motion = Path(tmp) / "motion.txt"
        motion.write_text(policy_motion_text(args.policy))
        for seed in range(args.runs):
            run = Path(tmp) / f"seed{seed}"
            command = [sys.executable, "-m", "app.cli", "train", str(motion), "-o", str(run), "--init", str(args.policy),
                       "--timesteps", str(args.timesteps), "--seed", str(seed)]
            if args.learning_rate is not None:
                command += ["--learning-rate", str(args.learning_rate)]
            subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
            _, _, outcome = replay(run / "policy.zip", seconds=args.seconds)
            rows.append({"seed": seed, "seconds": round(outcome["seconds"], 2), "fell": bool(outcome["fell"])})
    print(json.dumps({"policy": str(args.policy), "timesteps": args.timesteps, "learning_rate": args.learning_rate, "replays": rows,
                      "walked_whole_replay": sum(not r["fell"] for r in rows), "of": len(rows)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
