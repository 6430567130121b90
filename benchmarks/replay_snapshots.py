"""Replay every snapshot of a training run from the clip's start: does each one walk the whole replay?

    python benchmarks/replay_snapshots.py RUN_DIR [--seconds 10]

Prints JSON: per snapshot (``RUN_DIR/snapshots/*.zip``, then ``policy.zip``) the simulated
seconds, whether the character fell and how far its root moved (m), and the reference's travel.
A policy that walks the replay only in some snapshots is on a knife edge: a little more training
(as ``vidmimic demo`` does) can tip it either way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def travel_m(root_pos: np.ndarray) -> float:
    """Horizontal distance (m) between the first and last root positions ``(T, 3)``."""
    return round(float(np.linalg.norm((root_pos[-1] - root_pos[0])[[0, 2]])), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    policies = sorted((args.run_dir / "snapshots").glob("*.zip")) + [args.run_dir / "policy.zip"]
    policies = [p for p in policies if p.exists()]
    if not policies:
        print(f"vidmimic: error: {args.run_dir}: no snapshots/*.zip or policy.zip", file=sys.stderr)
        return 2
    from control.evaluate import replay

    rows = []
    for path in policies:
        simulated, reference, outcome = replay(path, seconds=args.seconds)
        rows.append({"policy": path.name, "seconds": round(outcome["seconds"], 2), "fell": bool(outcome["fell"]),
                     "travel_m": travel_m(simulated.root_pos), "reference_travel_m": travel_m(reference.root_pos)})
    print(json.dumps({"run": str(args.run_dir), "replays": rows, "walked_whole_replay": sum(not r["fell"] for r in rows), "of": len(rows)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
