"""Where the lifter's held-out error lies: per source motion, image plane against depth, 2D fit
against the keypoints' own noise, and the body's orientation to the camera.

    python -m lifter_research.scripts.lifter_diagnostics --data runs/heldout [--weights W] [--clips N]

Reads every clip as ``vidmimic estimator evaluate`` does (``predict_video``, mirror-averaged)
and prints JSON:

- ``per_motion``: per source motion (replayed from the dataset's seed), clips, PA-MPJPE (mm)
  and the pelvis's orientation error in the camera frame (median degrees, share above 90°: a
  body read facing the wrong way);
- ``camera_frame_error_mm``: the mean absolute pelvis-centred joint error along the camera's
  x (right), y (down) and z (depth) axes, unaligned;
- ``image_error_crop_widths``: median distance of the network's own projection (its
  weak-perspective camera) to the true 2D joints, beside that of the keypoints it was given:
  if the first is below the second, fitting the pose to the keypoints cannot help;
- ``by_leg_raise``: per source motion and over all of them, frames and PA-MPJPE (mm) binned by how far the more
  raised thigh points away from the torso's downward line (true pose, degrees: 0 standing
  straight, 90 a thigh level with the hip when upright, above 120 a high kick).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lifter_research.body_model import TorchSkeleton
from lifter_research.lifter import BODY_KEYPOINTS, synthetic_confidence
from lifter_research.lifter_train import load_lifter, quaternion_to_matrix
from lifter_research.mocap_library import FPS
from lifter_research.multiview import procrustes_align
from lifter_research.real_harness import SMPL12
from lifter_research.synthetic_dataset import dataset_sources, load_dataset
from pose_estimation.lifter_estimator import SHIPPED_WEIGHTS, predict_video

LEG_RAISE_BINS_DEG = (0, 30, 60, 90, 120, 180)
_PELVIS, _LEFT_HIP, _RIGHT_HIP, _LEFT_KNEE, _RIGHT_KNEE, _NECK = 0, 1, 2, 4, 5, 12


def leg_raise_deg(joints: np.ndarray) -> np.ndarray:
    """``(T,)`` degrees between the more raised thigh (hip to knee) and the torso's downward line
    (neck to pelvis), from SMPL joints ``(T, 24, 3)``."""
    down = joints[:, _PELVIS] - joints[:, _NECK]
    down = down / np.linalg.norm(down, axis=-1, keepdims=True)
    angles = []
    for hip, knee in ((_LEFT_HIP, _LEFT_KNEE), (_RIGHT_HIP, _RIGHT_KNEE)):
        thigh = joints[:, knee] - joints[:, hip]
        thigh = thigh / np.linalg.norm(thigh, axis=-1, keepdims=True)
        angles.append(np.degrees(np.arccos(np.clip((thigh * down).sum(-1), -1.0, 1.0))))
    return np.maximum(*angles)


def binned_by_leg_raise(frame_errors: np.ndarray, raise_deg: np.ndarray) -> dict[str, dict]:
    """Frames and mean error (mm, from metres) per :data:`LEG_RAISE_BINS_DEG` bin that holds any."""
    which = np.digitize(raise_deg, LEG_RAISE_BINS_DEG[1:-1])
    return {f"{lo}-{hi}": {"frames": int((which == b).sum()), "pa_mpjpe_mm": round(1000 * float(frame_errors[which == b].mean()), 1)}
            for b, (lo, hi) in enumerate(zip(LEG_RAISE_BINS_DEG[:-1], LEG_RAISE_BINS_DEG[1:])) if (which == b).any()}


def _pooled(rows) -> dict[str, list]:
    """The per-frame errors and leg raises of every motion's clips together."""
    return {key: [a for row in rows for a in row[key]] for key in ("frame_pa", "leg_raise")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a held-out dataset folder (vidmimic estimator data --held-out)")
    parser.add_argument("--weights", type=Path, default=SHIPPED_WEIGHTS)
    parser.add_argument("--clips", type=int, default=None, help="only the first N clips")
    args = parser.parse_args()
    model = load_lifter(args.weights)
    data = load_dataset(args.data, args.clips)
    clips = len(data["betas"])
    sources = dataset_sources(args.data, clips) or ["all"] * clips
    skeleton = TorchSkeleton()
    per_motion: dict[str, dict[str, list]] = {}
    axis_error, network_2d, keypoints_2d = [], [], []
    for i in range(clips):
        inputs = {k: data[k][i] for k in ("keypoints", "confidence", "occluded", "flow")}
        inputs["confidence"] = synthetic_confidence(inputs["confidence"], model.config.confidence_model)
        out = predict_video(model, inputs, FPS)
        with torch.no_grad():
            joints = skeleton(torch.as_tensor(out["rotations"]), torch.as_tensor(out["betas"])).numpy().astype(float)
        seen = ~data["occluded"][i]
        truth = data["joints"][i].astype(float)
        row = per_motion.setdefault(sources[i], {"pa": [], "angle": [], "frame_pa": [], "leg_raise": []})
        aligned = procrustes_align(joints[:, SMPL12], truth[:, SMPL12])
        row["frame_pa"].append(np.linalg.norm(aligned - truth[:, SMPL12], axis=-1).mean(axis=1))
        row["pa"].append(float(row["frame_pa"][-1].mean()))  # synthetic truth has no missing joints
        row["leg_raise"].append(leg_raise_deg(truth))
        true_pelvis = quaternion_to_matrix(torch.as_tensor(data["rotations"][i][:, 0])).numpy()
        cosine = (np.einsum("tij,tij->t", out["rotations"][:, 0], true_pelvis) - 1.0) / 2.0
        row["angle"].append(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))[seen])
        axis_error.append(np.abs((joints - joints[:, :1]) - (truth - truth[:, :1]))[seen][:, SMPL12].reshape(-1, 3))
        camera = out["camera"][:, None]
        projected = camera[..., :1] * joints[..., :2] + camera[..., 1:]
        true_2d = data["joints2d"][i][:, SMPL12]
        network_2d.append(np.linalg.norm(projected[:, SMPL12] - true_2d, axis=-1)[seen].ravel())
        keypoints_2d.append(np.linalg.norm(data["keypoints"][i][:, BODY_KEYPOINTS] - true_2d, axis=-1)[seen].ravel())
    result = {
        "weights": str(args.weights),
        "data": str(args.data),
        "clips": clips,
        "per_motion": {
            name: {"clips": len(row["pa"]), "pa_mpjpe_mm": round(1000 * float(np.mean(row["pa"])), 1),
                   "pelvis_orientation_error_median_deg": round(float(np.median(np.concatenate(row["angle"]))), 1),
                   "pelvis_orientation_error_over_90_deg_percent": round(100 * float((np.concatenate(row["angle"]) > 90).mean()), 1)}
            for name, row in sorted(per_motion.items(), key=lambda kv: -np.mean(kv[1]["pa"]))
        },
        "camera_frame_error_mm": dict(zip("xyz", (round(1000 * float(v), 1) for v in np.concatenate(axis_error).mean(axis=0)))),
        "image_error_crop_widths": {"network": round(float(np.median(np.concatenate(network_2d))), 4),
                                    "keypoints_given": round(float(np.median(np.concatenate(keypoints_2d))), 4)},
        "by_leg_raise": {name: binned_by_leg_raise(np.concatenate(row["frame_pa"]), np.concatenate(row["leg_raise"]))
                         for name, row in [*per_motion.items(), ("all motions", _pooled(per_motion.values()))]},
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
