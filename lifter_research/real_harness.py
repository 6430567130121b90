"""The real-data harness: 4 calibrated views give pseudo-ground truth, each view is estimated alone.

Run as ``python benchmarks/real_harness.py [--data DIR] [--frames N]``; the functions are used
by ``vidmimic estimator evaluate`` and the lifter's tables too.

1. MediaPipe 2D keypoints (COCO-17) in all 4 views; left/right swaps are resolved per view and
   frame against the other views; confidence-weighted DLT gives 3D joints; the median
   reprojection error per view is reported.
2. Every registered estimator runs on each single view; its 12 body joints (shoulders,
   elbows, wrists, hips, knees, ankles) are compared with the triangulated ones expressed in
   that camera's frame: MPJPE after aligning the hip centres, and PA-MPJPE (Procrustes with
   scale), in mm, per view and the mean.
3. A synthetic check: a held-out mocap clip (CMU 131_02) seen by a known camera, with
   detector-like noise on the landmarks (3D 30 mm, 2D 4 px), scored the same way.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from characters.places import POSE2SIM_SINGLE, SHARED_MOCAP
from lifter_research.multiview import mpjpe, pa_mpjpe, procrustes_align, read_qualisys, triangulate
from lifter_research.paired_bootstrap import paired_block_bootstrap
from pose_estimation.camera import CAMERA_TO_WORLD
from pose_estimation.estimate import ESTIMATORS, run_front_end
from pose_estimation.keypoints import COCO17_MIRROR
from pose_estimation.landmarks_ik import MP, landmarks_from_joints, landmarks_to_smpl
from pose_estimation.smoothness import smoothness, smoothness_keys

DATA = POSE2SIM_SINGLE
"""The real recording (never used for training)."""
MOCAP = SHARED_MOCAP / "cmu" / "131_02.bvh"
COCO12 = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
SMPL12 = [16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8]  # the same joints, SMPL indices
JOINT_NAMES12 = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
                 "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def reprojection_errors(cameras, points: np.ndarray, pixels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(C, T, J)`` px distance between each view's keypoints and the projected 3D points."""
    errors = np.stack([np.linalg.norm(cam.project(np.nan_to_num(points)) - pixels[c], axis=-1) for c, cam in enumerate(cameras)])
    errors[weights <= 0] = np.nan
    errors[:, np.isnan(points).any(axis=-1)] = np.nan
    return errors


def resolve_swaps(cameras, pixels: np.ndarray, weights: np.ndarray, reference_weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Swap a view's left/right keypoints in a frame when that fits the other views better
    (triangulated with ``reference_weights``, default ``weights``: 0 leaves a view's frame out)."""
    reference_weights = weights if reference_weights is None else reference_weights
    pixels, weights = pixels.copy(), weights.copy()
    swaps = 0
    for c in range(len(cameras)):
        others = [k for k in range(len(cameras)) if k != c]
        reference = triangulate([cameras[k] for k in others], pixels[others], reference_weights[others])
        projected = cameras[c].project(np.nan_to_num(reference))
        keep = np.nanmean(np.linalg.norm(projected - pixels[c], axis=-1), axis=-1)
        flipped = np.nanmean(np.linalg.norm(projected - pixels[c][:, COCO17_MIRROR], axis=-1), axis=-1)
        swap = flipped < 0.7 * keep
        pixels[c][swap] = pixels[c][swap][:, COCO17_MIRROR]
        weights[c][swap] = weights[c][swap][:, COCO17_MIRROR]
        swaps += int(swap.sum())
    return pixels, weights, swaps


def hip_aligned(points: np.ndarray) -> np.ndarray:
    """``(T, 12, 3)`` minus the midpoint of the two hips (indices 6, 7 of the 12)."""
    return points - 0.5 * (points[:, 6:7] + points[:, 7:8])


@dataclass
class HarnessViews:
    """The recording's front-end results per view and the triangulated pseudo-ground truth."""

    cameras: list
    fronts: list
    truth: np.ndarray  # (T, 17, 3) m world, NaN where not triangulated
    report: dict  # frames, swaps, reprojection errors, detection time
    valid: np.ndarray | None = None  # (C, T) bool: frames a view scores (None: every triangulated frame)


def harness_views(data: Path = DATA, frames: int | None = None) -> HarnessViews:
    """Run the front end on every view and triangulate (the slow, estimator-independent part)."""
    cameras = read_qualisys(data / "calibration" / "Calib.qca.txt")
    start = time.perf_counter()
    fronts = [run_front_end(data / "videos" / f"{cam.name}.mp4", max_frames=frames) for cam in cameras]
    n = min(f.keypoints.num_frames for f in fronts)
    pixels = np.stack([f.keypoints.keypoints[:n] for f in fronts])
    weights = np.stack([np.where(f.keypoints.occluded[:n, None], 0.0, f.keypoints.confidence[:n]) for f in fronts])
    pixels, weights, swaps = resolve_swaps(cameras, pixels, weights)
    truth = triangulate(cameras, pixels, weights)
    errors = reprojection_errors(cameras, truth, pixels, weights)
    report = {
        "frames": n,
        "left_right_swaps_fixed": swaps,
        "reprojection_px_median": {cam.name: float(np.nanmedian(errors[c])) for c, cam in enumerate(cameras)},
        "detection_seconds": round(time.perf_counter() - start, 1),
    }
    return HarnessViews(cameras, fronts, truth, report)


def score_estimator(views: HarnessViews, estimator: Callable, frame_errors: list | None = None) -> dict:
    """MPJPE (hip-centred) and PA-MPJPE in mm of one estimator, per view and the mean, PA-MPJPE per
    joint (mean over views), and the smoothness of its estimate (mean angular speed and
    acceleration of the body joints). ``frame_errors``: if given, gets each view's ``(frames,)``
    PA-MPJPE per frame in mm (NaN where not scored) appended, for :func:`compare`."""
    n = views.report["frames"]
    truth12 = views.truth[:, COCO12]
    per_view, per_joint = {}, []
    for c, (cam, front) in enumerate(zip(views.cameras, views.fronts)):
        motion = estimator(front)
        joints = motion.joint_positions()[:n, SMPL12]
        in_camera = (truth12 @ cam.R.T + cam.t) @ CAMERA_TO_WORLD.T  # the estimate's frame
        ok = ~np.isnan(in_camera).any(axis=(1, 2))
        if views.valid is not None:
            ok &= views.valid[c]
        ok &= ~np.isnan(joints).any(axis=(1, 2))
        aligned_errors = 1000 * np.linalg.norm(procrustes_align(joints[ok], in_camera[ok]) - in_camera[ok], axis=-1)  # (frames, 12) mm
        per_view[cam.name] = {
            "mpjpe_mm": 1000 * mpjpe(hip_aligned(joints[ok]), hip_aligned(in_camera[ok])),
            "pa_mpjpe_mm": float(aligned_errors.mean()),
            **smoothness(motion),
        }
        per_joint.append(aligned_errors.mean(axis=0))
        if frame_errors is not None:
            frames = np.full(n, np.nan)
            frames[ok] = aligned_errors.mean(axis=1)
            frame_errors.append(frames)
    return {
        "per_view": per_view,
        "pa_mpjpe_mm_per_joint": dict(zip(JOINT_NAMES12, np.round(np.mean(per_joint, axis=0), 1).tolist())),
        **{k: float(np.mean([v[k] for v in per_view.values()])) for k in smoothness_keys()},
        "mean_mpjpe_mm": float(np.mean([v["mpjpe_mm"] for v in per_view.values()])),
        "mean_pa_mpjpe_mm": float(np.mean([v["pa_mpjpe_mm"] for v in per_view.values()])),
    }


def compare(views: HarnessViews, estimators: dict[str, Callable], pairs: list[tuple[str, str]], frames: dict[str, list] | None = None) -> dict:
    """Score every estimator, and for each ``(a, b)`` of ``pairs`` their paired PA-MPJPE difference
    (``<a>_minus_<b>``: the difference and its block-bootstrap 95 % interval). ``frames``: if
    given, gets each estimator's per-view ``(frames,)`` errors appended under its name."""
    frames = {name: [] for name in estimators} if frames is None else frames
    mine: dict[str, list] = {name: [] for name in estimators}
    result: dict = {name: score_estimator(views, estimator, mine[name]) for name, estimator in estimators.items()}
    for a, b in pairs:
        result[f"{a}_minus_{b}"] = paired_block_bootstrap(np.stack(mine[a]), np.stack(mine[b]))
    for name in estimators:
        frames.setdefault(name, []).extend(mine[name])
    return result


def compare_recordings(recordings: dict[str, HarnessViews], estimators: dict[str, Callable], pairs: list[tuple[str, str]]) -> dict:
    """:func:`compare` on every recording (a name → its views, e.g. one per person), and
    ``pooled``: each estimator's mean PA-MPJPE over every recording's views and each pair's
    paired difference over all of them (views of shorter recordings padded with unscored frames)."""
    frames: dict[str, list] = {name: [] for name in estimators}
    result: dict = {label: {**views.report, **compare(views, estimators, pairs, frames)} for label, views in recordings.items()}
    length = max(len(f) for per_view in frames.values() for f in per_view)
    padded = {name: np.stack([np.pad(f, (0, length - len(f)), constant_values=np.nan) for f in per_view]) for name, per_view in frames.items()}
    pooled: dict = {"views": sum(len(v.cameras) for v in recordings.values())}
    with np.errstate(invalid="ignore"):
        pooled.update({f"{name}_mean_pa_mpjpe_mm": float(np.mean(np.nanmean(errors, axis=1))) for name, errors in padded.items()})
    pooled.update({f"{a}_minus_{b}": paired_block_bootstrap(padded[a], padded[b]) for a, b in pairs})
    result["pooled"] = pooled
    return result


def real_views(data: Path, frames: int | None, estimators: dict[str, Callable] | None = None) -> dict:
    """The harness report with every estimator of ``estimators`` (default: all registered) scored."""
    views = harness_views(data, frames)
    result = dict(views.report)
    estimators = estimators or ESTIMATORS
    if "mediapipe_ik" in estimators:
        result["estimators"] = compare(views, estimators, [(name, "mediapipe_ik") for name in estimators if name != "mediapipe_ik"])
    else:
        result["estimators"] = {name: score_estimator(views, estimator) for name, estimator in estimators.items()}
    return result


def synthetic_check(seed: int = 0) -> dict:
    """IK baseline on a held-out mocap clip seen by a known camera, with detector-like noise."""
    from retargeting.bvh_import import bvh_to_smpl

    smpl = bvh_to_smpl(MOCAP).resample(30.0)
    joints = smpl.joint_positions()
    rng = np.random.default_rng(seed)
    hip_mid = 0.5 * (joints[:, 1] + joints[:, 2])
    # Camera 4 m in front of the clip's mean position, level, looking at it (world -Z is its forward).
    centre = hip_mid.mean(axis=0)
    cam_world = (joints - centre + np.array([0.0, 0.0, -4.0])) @ CAMERA_TO_WORLD.T  # camera axes
    landmarks = landmarks_from_joints(cam_world)
    size = (1080, 1920)
    focal = float(max(size))
    depth = np.where(landmarks[..., 2:3] > 0, landmarks[..., 2:3], 1.0)  # unused landmarks are zero
    pixels = focal * landmarks[..., :2] / depth + np.array(size) / 2
    origin = 0.5 * (landmarks[:, MP["left_hip"]] + landmarks[:, MP["right_hip"]])
    noisy_world = landmarks - origin[:, None] + rng.normal(scale=0.03, size=landmarks.shape)
    noisy_pixels = pixels + rng.normal(scale=4.0, size=pixels.shape)
    visible = np.ones((len(joints), 33))
    estimate = landmarks_to_smpl(noisy_world, noisy_pixels, visible, np.ones(len(joints), bool), 30.0, size).joint_positions()
    truth = cam_world @ CAMERA_TO_WORLD.T  # back to Y-up, camera-centred
    est12, truth12 = estimate[:, SMPL12], truth[:, SMPL12]
    return {
        "clip": MOCAP.name,
        "frames": len(joints),
        "mediapipe_ik": {"mpjpe_mm": 1000 * mpjpe(hip_aligned(est12), hip_aligned(truth12)), "pa_mpjpe_mm": 1000 * pa_mpjpe(est12, truth12)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--frames", type=int, help="only the first N frames of each view")
    args = parser.parse_args()
    print(json.dumps({"real": real_views(args.data, args.frames), "synthetic": synthetic_check()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
