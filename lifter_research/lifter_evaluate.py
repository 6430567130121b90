"""``vidmimic estimator evaluate``: the lifter on held-out synthetic clips and on the real harness.

Synthetic clips are run through the same inference as videos
(:func:`lifter_estimator.predict_video` at their 30 frames/s); errors are over the harness's 12 body joints (shoulders,
elbows, wrists, hips, knees, ankles) so synthetic and real figures compare: PA-MPJPE
(Procrustes with scale, per frame) and MPJPE after aligning the hip centres, in mm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lifter_research.body_model import TorchSkeleton
from lifter_research.lifter import synthetic_confidence
from lifter_research.mocap_library import FPS
from lifter_research.multiview import mpjpe, pa_mpjpe
from lifter_research.real_harness import SMPL12, hip_aligned
from lifter_research.synthetic_dataset import dataset_sources, load_dataset
from pose_estimation.lifter_estimator import predict_video


def evaluate_synthetic(model, data_dir: str | Path, max_clips: int | None = None, mirror: bool = True, clip_errors: list | None = None) -> dict:
    """PA-MPJPE and hip-centred MPJPE (mm) of ``model`` over the clips of ``data_dir`` (``mirror``:
    average with the mirror images' readings, as videos are read). ``clip_errors``: if given,
    gets each clip's PA-MPJPE in mm appended (every clip has the same frames, so their mean is
    the overall figure)."""
    data = load_dataset(data_dir, max_clips)
    skeleton = TorchSkeleton()
    predicted, truth = [], []
    for i in range(len(data["betas"])):
        inputs = {k: data[k][i] for k in ("keypoints", "confidence", "occluded", "flow")}
        inputs["confidence"] = synthetic_confidence(inputs["confidence"], model.config.confidence_model)
        out = predict_video(model, inputs, FPS, mirror=mirror)
        with torch.no_grad():
            joints = skeleton(torch.as_tensor(out["rotations"]), torch.as_tensor(out["betas"])).numpy()
        predicted.append(joints[:, SMPL12])
        truth.append(data["joints"][i][:, SMPL12])
    p, t = np.concatenate(predicted).astype(float), np.concatenate(truth).astype(float)
    result = {
        "clips": len(data["betas"]),
        "frames": len(p),
        "pa_mpjpe_mm": 1000 * pa_mpjpe(p, t),
        "mpjpe_mm": 1000 * mpjpe(hip_aligned(p), hip_aligned(t)),
    }
    errors = [pa_mpjpe(a.astype(float), b.astype(float)) for a, b in zip(predicted, truth)]
    if clip_errors is not None:
        clip_errors.extend(1000 * e for e in errors)
    sources = dataset_sources(data_dir, len(predicted))
    if sources is not None:
        result["pa_mpjpe_mm_per_motion"] = per_motion(sources, errors)
    return result


def per_motion(sources: list[str], clip_errors: list[float]) -> dict[str, dict]:
    """Clips and mean PA-MPJPE (mm) per source motion, worst first, from each clip's error (m).

    Every clip has the same number of frames, so the clip mean is the frame mean."""
    table: dict[str, list[float]] = {}
    for name, error in zip(sources, clip_errors):
        table.setdefault(name, []).append(error)
    rows = {name: {"clips": len(e), "pa_mpjpe_mm": round(1000 * float(np.mean(e)), 1)} for name, e in table.items()}
    return dict(sorted(rows.items(), key=lambda kv: -kv[1]["pa_mpjpe_mm"]))


def evaluate_synthetic_baseline(data_dir: str | Path, max_clips: int | None = None, noise_m: float = 0.03, seed: int = 0) -> dict:
    """The MediaPipe-IK baseline on the same clips, fed simulated MediaPipe output.

    Synthetic clips have no MediaPipe run: its world landmarks are simulated as the true
    joints plus ``noise_m`` Gaussian noise (as in the real harness's synthetic check), so this
    row flatters the baseline — MediaPipe's real 3D errors are larger and correlated.
    """
    from pose_estimation.camera import CAMERA_TO_WORLD
    from pose_estimation.landmarks_ik import MP, landmarks_from_joints, landmarks_to_smpl

    data = load_dataset(data_dir, max_clips)
    rng = np.random.default_rng(seed)
    predicted, truth = [], []
    for i in range(len(data["betas"])):
        joints = data["joints"][i].astype(float)  # camera axes, pelvis-relative
        landmarks = landmarks_from_joints(joints)
        origin = 0.5 * (landmarks[:, MP["left_hip"]] + landmarks[:, MP["right_hip"]])
        world = landmarks - origin[:, None] + rng.normal(scale=noise_m, size=landmarks.shape)
        placed = landmarks + np.array([0.0, 0.0, 1.0]) * data["pelvis_depth"][i][:, None, None]
        pixels = 1000.0 * placed[..., :2] / np.maximum(placed[..., 2:3], 0.1) + 500.0  # a 1000 px camera (translation only)
        present = ~data["occluded"][i]
        if not present.any():
            continue
        estimate = landmarks_to_smpl(world, pixels, np.ones((len(joints), 33)), present, 30.0, (1000, 1000)).joint_positions()
        predicted.append(estimate[:, SMPL12])
        truth.append(joints[:, SMPL12] @ CAMERA_TO_WORLD.T)
    p, t = np.concatenate(predicted), np.concatenate(truth)
    return {"clips": len(predicted), "frames": len(p), "pa_mpjpe_mm": 1000 * pa_mpjpe(p, t), "mpjpe_mm": 1000 * mpjpe(hip_aligned(p), hip_aligned(t)),
            "note": f"simulated MediaPipe world landmarks: truth + {1000 * noise_m:.0f} mm noise"}
