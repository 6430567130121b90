"""Does a little more training tip a policy over? Fine-tune it briefly with several seeds and replay each.

    python benchmarks/fine_tune_replays.py POLICY [--runs 8] [--timesteps 8192] [--learning-rate LR] [--choose]

Each run is ``vidmimic train MOTION --init POLICY --timesteps T --seed S`` on the policy's own
motion (as ``vidmimic demo`` does for two minutes) followed by a 10-s replay from the clip's
start. Prints JSON: per seed whether the replay fell and when, and how many of the runs walked
the whole replay. ``--learning-rate`` replaces the policy's own step size for the fine-tuning.

With ``--choose`` each run also does what ``vidmimic run --init-policy`` does after training
(``control.policy_choice``: the fine-tune and POLICY tried for ``--trial-episodes`` ten-second
episodes, the one that falls less kept) and scores both the fine-tune and the kept policy with the demo's evaluation
(``vidmimic evaluate``, 5 ten-second episodes, seed 0) and a replay.
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
    parser.add_argument("--trial-episodes", type=int, default=20, help="with --choose: episodes of the comparison (vidmimic run's default)")
    parser.add_argument("--choose", action="store_true", help="also keep the better of the fine-tune and POLICY, as vidmimic run does, and score both")
    args = parser.parse_args()
    if not args.policy.is_file():
        print(f"vidmimic: error: {args.policy}: no such file", file=sys.stderr)
        return 2
    from control.evaluate import evaluate, replay
    from control.policy_choice import choose_policy
    from control.train import policy_motion_text

    def scored(policy: Path) -> dict:
        _, _, outcome = replay(policy, seconds=args.seconds)
        falls = evaluate(policy, episodes=5, seconds=args.seconds, seed=0)["falls"]
        return {"replay_seconds": round(outcome["seconds"], 2), "replay_fell": bool(outcome["fell"]), "evaluation_falls_of_5": falls}

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
            if not args.choose:
                _, _, outcome = replay(run / "policy.zip", seconds=args.seconds)
                rows.append({"seed": seed, "seconds": round(outcome["seconds"], 2), "fell": bool(outcome["fell"])})
                continue
            choice = choose_policy(run / "policy.zip", args.policy, run / "kept.zip", episodes=args.trial_episodes, seconds=args.seconds, seed=seed)
            rows.append({"seed": seed, "fine_tuned": scored(run / "policy.zip"), "kept": choice["kept"], "kept_policy": scored(run / "kept.zip"),
                         "trial_falls": {k: choice[k]["falls"] for k in ("fine_tuned", "warm_start")}})
    result = {"policy": str(args.policy), "timesteps": args.timesteps, "trial_episodes": args.trial_episodes if args.choose else None, "learning_rate": args.learning_rate, "replays": rows, "of": len(rows)}
    if args.choose:
        for name in ("fine_tuned", "kept_policy"):
            result[name] = {"walked_whole_replay": sum(not r[name]["replay_fell"] for r in rows),
                            "evaluation_falls": sum(r[name]["evaluation_falls_of_5"] for r in rows), "evaluation_episodes": 5 * len(rows)}
        result["kept_the_warm_start"] = sum(r["kept"] == "warm_start" for r in rows)
    else:
        result["walked_whole_replay"] = sum(not r["fell"] for r in rows)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
