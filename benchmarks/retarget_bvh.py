"""Retarget a BVH (default: CMU 131_01) onto the character; prints ground and foot-skate figures as JSON.

    python benchmarks/retarget_bvh.py [BVH ...]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from characters.character import humanoid
from characters.places import SHARED_MOCAP
from retargeting.bvh_import import bvh_to_smpl
from retargeting.cleanup import CleanupOptions, contact_slide, detect_contacts
from retargeting.smpl_character import smpl_to_character

DEFAULT = SHARED_MOCAP / "cmu" / "131_01.bvh"


def measure(path: Path) -> dict:
    character = humanoid()
    start = time.perf_counter()
    smpl = bvh_to_smpl(path)
    raw = smpl_to_character(smpl, character, cleanup=None)
    clean = smpl_to_character(smpl, character)
    seconds = time.perf_counter() - start
    contacts = detect_contacts(clean, CleanupOptions())
    pos, rots = clean.body_frames()
    feet = character.lowest_heights(pos, rots, character.contact_bodies)
    return {
        "frames": clean.num_frames,
        "fps": clean.fps,
        "seconds_to_import_and_retarget": round(seconds, 3),
        "lowest_foot_cm": float(100 * feet.min()),
        "contact_fraction": [float(v) for v in contacts.mean(axis=0)],
        "median_contact_slide_cm_per_frame": float(100 * np.median(contact_slide(clean, contacts))),
        "median_contact_slide_cm_per_frame_before_cleanup": float(100 * np.median(contact_slide(raw, contacts))),
        "p95_contact_slide_cm_per_frame": float(100 * np.percentile(contact_slide(clean, contacts), 95)),
    }


def main() -> int:
    paths = [Path(p) for p in sys.argv[1:]] or [DEFAULT]
    json.dump({p.name: measure(p) for p in paths}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
