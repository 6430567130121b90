"""How far from gravity's up the estimate's up is, on calibrated real recordings.

    python benchmarks/estimate_up.py [--real DIR] [--real-people DIR ...]

Per view: the camera's tilt (the angle between world up, +Z in the calibration, and the camera's
own up: what an estimate that assumes a level camera is off by), and for each estimator the angle
between world up and :func:`pose_estimation.level.legs_up` of its estimate (what
``vidmimic estimate`` stands upright by), or null where the legs lean more than
``level.MAX_TILT_DEG`` and the estimate is left as it is. Prints JSON with the means.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lifter_research.multi_person import person_harness_views
from lifter_research.real_harness import DATA, harness_views
from pose_estimation.camera import CAMERA_TO_WORLD
from pose_estimation.estimate import ESTIMATORS
from pose_estimation.level import MAX_TILT_DEG, UP, angle_deg, legs_up, tilt_deg


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, default=DATA, help="the calibrated single-person recording")
    parser.add_argument("--real-people", type=Path, action="append", default=[], help="a calibrated multi-person recording (repeatable)")
    args = parser.parse_args()
    recordings = {args.real.name: harness_views(args.real)}
    for folder in args.real_people:
        recordings.update({f"{folder.name}_person{v.report['person']}": v for v in person_harness_views(folder)})
    views, errors = [], {"level_camera": [], **{name: [] for name in ESTIMATORS}}
    for label, harness in recordings.items():
        for camera, front in zip(harness.cameras, harness.fronts):
            true_up = CAMERA_TO_WORLD @ camera.R[:, 2]  # world +Z in the estimate's Y-up camera frame
            row = {"recording": label, "view": camera.name, "camera_tilt_deg": round(angle_deg(true_up, UP), 1)}
            errors["level_camera"].append(row["camera_tilt_deg"])
            for name, estimator in ESTIMATORS.items():
                up = legs_up(estimator(front))
                error = angle_deg(up, true_up) if tilt_deg(up) <= MAX_TILT_DEG else None
                row[f"{name}_legs_up_error_deg"] = None if error is None else round(error, 1)
                if error is not None:
                    errors[name].append(error)
            views.append(row)
    print(json.dumps({
        "views": views,
        "mean_error_deg": {name: round(float(np.mean(e)), 1) if e else None for name, e in errors.items()},
        "views_left_as_they_are": {name: len(views) - len(e) for name, e in errors.items() if name != "level_camera"},
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
