"""Round trip character -> SMPL -> character over every DeepMimic clip available; prints JSON.

    python benchmarks/roundtrip.py [--markdown]

Clips: the 15 humanoid3d clips in pybullet_data, and ../shared/data/mocap/deepmimic/*.txt
when that folder exists.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pybullet_data

from characters.character import humanoid
from characters.places import SHARED_MOCAP
from retargeting.deepmimic_file import read_deepmimic
from retargeting.roundtrip import roundtrip_errors

SHARED_CLIPS = SHARED_MOCAP / "deepmimic"


def clip_paths() -> list[Path]:
    core = sorted((Path(pybullet_data.getDataPath()) / "data" / "motions").glob("humanoid3d_*.txt"))
    return core + sorted(SHARED_CLIPS.glob("*.txt"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table instead of JSON")
    args = parser.parse_args()
    character = humanoid()
    rows = {p.stem: roundtrip_errors(read_deepmimic(p, character)) for p in clip_paths()}
    if args.markdown:
        print("| clip | frames | mean geodesic (deg) | max geodesic (deg) | mean EE error (cm) | max EE error (cm) |")
        print("|---|---|---|---|---|---|")
        for name, r in rows.items():
            print(f"| {name} | {r['frames']} | {r['mean_geodesic_deg']:.2e} | {r['max_geodesic_deg']:.2e} | {r['mean_ee_error_cm']:.2e} | {r['max_ee_error_cm']:.2e} |")
    else:
        json.dump({"clips": rows}, sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
