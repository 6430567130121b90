"""The lifter as an estimator of ``vidmimic estimate``: front-end results -> SMPL motion.

The video is cut into overlapping windows of the network's clip length (stride half a
window, all windows in one batch); each frame takes the prediction of the window it is most
central in. A video faster than the synthetic clips' 30 frames/s is seen at 30 frames/s
(interleaved sequences), and every sequence is also read mirrored and the two readings
averaged (:func:`predict_video`). The pelvis is placed from the weak-perspective camera: its scale gives the depth
with the same pinhole assumption as the baseline (focal length ``max(width, height)`` px at the
image centre), its offset the position across the image. Camera axes become vidmimic's Y-up
world by the half turn about x that the baseline uses.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from characters import rotations as rot
from characters.errors import input_error
from pose_estimation.camera import CAMERA_TO_WORLD, square_box
from pose_estimation.keypoints import COCO17_MIRROR
from pose_estimation.landmarks_ik import fill_gaps
from pose_estimation.lifter_config import SMPL_MIRROR, TRAINING_FPS
from pose_estimation.lifter_numpy import NumpyLifter, numpy_weights_for
from retargeting.cleanup import gaussian_smooth, smooth_rotations
from retargeting.smpl import SmplMotion, smpl_skeleton

SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "lifter.pt"
SMOOTH_S = 0.03  # s, light temporal smoothing of the output (the LSTM is smooth already)


def crop_inputs(keypoints: np.ndarray, confidence: np.ndarray, boxes: np.ndarray, occluded: np.ndarray, flow: np.ndarray) -> dict[str, np.ndarray]:
    """The lifter's inputs from front-end arrays: pixel keypoints ``(T, 17, 2)`` -> crop coordinates of each frame's flow crop."""
    regions = np.stack([square_box(b) for b in boxes])
    side = np.maximum(regions[:, 2] - regions[:, 0], 1e-6)
    kp = (keypoints - regions[:, None, :2]) / side[:, None, None]
    kp[occluded] = 0.0
    conf = np.where(occluded[:, None], 0.0, confidence)
    return {"keypoints": kp.astype(np.float32), "confidence": conf.astype(np.float32), "occluded": occluded.astype(bool),
            "flow": flow.astype(np.float32), "regions": regions}


def window_starts(frames: int, window: int) -> np.ndarray:
    """Starts of overlapping windows (stride ``window // 2``) covering ``frames`` (the last ends at the end)."""
    if frames <= window:
        return np.array([0])
    starts = list(range(0, frames - window + 1, max(1, window // 2)))
    if starts[-1] != frames - window:
        starts.append(frames - window)
    return np.array(starts)


def predict(model, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-frame ``rotations (T, 24, 3, 3)``, ``betas (T, 10)``, ``camera (T, 3)`` over a whole video.

    ``model``: the :class:`NumpyLifter`, or any network with a ``config`` and a ``predict_numpy(batch)``
    that reads NumPy arrays and returns them (the research package's torch ``Lifter``)."""
    frames = len(inputs["occluded"])
    window = model.config.window
    pad = max(0, window - frames)
    arrays = {k: np.concatenate([v, np.repeat(v[-1:], pad, axis=0)]) if pad else v for k, v in inputs.items() if k != "regions"}
    starts = window_starts(frames + pad, window)
    batch = {k: np.stack([v[s : s + window] for s in starts]) for k, v in arrays.items()}
    out = model(batch) if isinstance(model, NumpyLifter) else model.predict_numpy(batch)
    centre = starts + (window - 1) / 2.0
    best = np.argmin(np.abs(np.arange(frames)[:, None] - centre[None]), axis=1)
    offset = np.arange(frames) - starts[best]
    return {k: v[best, offset] for k, v in out.items()}


def _mirrored_inputs(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inputs of the video reflected left-right: x -> 1 - x in the crop, sides swapped."""
    out = dict(inputs)
    keypoints = inputs["keypoints"][:, COCO17_MIRROR].copy()
    keypoints[..., 0] = np.where(inputs["occluded"][:, None], 0.0, 1.0 - keypoints[..., 0])
    out["keypoints"] = keypoints
    out["confidence"] = inputs["confidence"][:, COCO17_MIRROR]
    flow = inputs["flow"][:, :, ::-1].copy()  # (T, rows, columns, xy)
    flow[..., 0] *= -1
    out["flow"] = flow
    return out


def _unmirrored_outputs(out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Predictions made on mirrored inputs, reflected back (rotations ``M R M``, sides swapped)."""
    reflect = np.diag([-1.0, 1.0, 1.0]).astype(out["rotations"].dtype)
    camera = out["camera"].copy()
    camera[:, 1] = 1.0 - camera[:, 1]
    return {"rotations": reflect @ out["rotations"][:, SMPL_MIRROR] @ reflect, "betas": out["betas"], "camera": camera}


def _nearest_rotation(matrices: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` -> the closest rotation matrices (SVD projection)."""
    u, _, vt = np.linalg.svd(matrices)
    u[..., -1] *= np.sign(np.linalg.det(u @ vt))[..., None]
    return u @ vt


def predict_mirror_averaged(model, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`predict` on the video and on its mirror image, reflected back and averaged.

    The network was trained on mirrored clips half the time, but is not exactly symmetric;
    averaging the two readings cancels part of its error (on held-out synthetic clips
    75.7 -> 72.7 mm PA-MPJPE with the eighth session's weights, ``lifter_research/scripts/lifter_inference.py``)
    at twice the network's cost, which is small beside the front end's.
    """
    plain = predict(model, inputs)
    mirrored = _unmirrored_outputs(predict(model, _mirrored_inputs(inputs)))
    return {
        "rotations": _nearest_rotation(0.5 * (plain["rotations"] + mirrored["rotations"])).astype(plain["rotations"].dtype),
        "betas": 0.5 * (plain["betas"] + mirrored["betas"]),
        "camera": 0.5 * (plain["camera"] + mirrored["camera"]),
    }


def predict_video(model, inputs: dict[str, np.ndarray], fps: float, mirror: bool = True, match_rate: bool = True) -> dict[str, np.ndarray]:
    """Per-frame predictions (as :func:`predict`) of a video at ``fps``, seen at the training rate.

    The synthetic clips are 30 frames/s. A faster video (e.g. 60 frames/s) is split into
    ``step = round(fps / 30)`` interleaved sequences (frames 0, 2, 4, ... and 1, 3, 5, ...),
    each with the flow summed over the ``step`` frames before each of its frames, so the
    network sees motion per frame and a window's duration as in training; the predictions
    are interleaved back. ``mirror``: average with the mirror image's reading
    (:func:`predict_mirror_averaged`); ``match_rate=False`` reads every frame in one sequence.
    """
    read = predict_mirror_averaged if mirror else predict
    step = max(1, int(round(fps / TRAINING_FPS))) if match_rate else 1
    if step == 1:
        return read(model, inputs)
    frames = len(inputs["occluded"])
    flow = inputs["flow"].copy()
    for lag in range(1, step):
        flow[lag:] += inputs["flow"][: frames - lag]
    result: dict[str, np.ndarray] = {}
    for phase in range(min(step, frames)):
        part = {k: (flow if k == "flow" else v)[phase::step] for k, v in inputs.items() if k != "regions"}
        for k, v in read(model, part).items():
            result.setdefault(k, np.zeros((frames, *v.shape[1:]), v.dtype))[phase::step] = v
    return result


def lifter_to_smpl(model, keypoints: np.ndarray, confidence: np.ndarray, boxes: np.ndarray, occluded: np.ndarray, flow: np.ndarray,
                   fps: float, image_size: tuple[int, int], mirror: bool = True, match_rate: bool = True) -> SmplMotion:
    """SMPL motion of a video from its front-end arrays (see :func:`crop_inputs`; ``mirror``,
    ``match_rate``: see :func:`predict_video`)."""
    inputs = crop_inputs(keypoints, confidence, boxes, occluded, flow)
    out = predict_video(model, inputs, fps, mirror, match_rate)
    sigma = SMOOTH_S * fps
    local = smooth_rotations(rot.from_matrix(out["rotations"]), sigma, wrap=False)
    to_world = rot.from_matrix(CAMERA_TO_WORLD)
    local[:, 0] = rot.multiply(np.broadcast_to(to_world, local[:, 0].shape), local[:, 0])
    regions = inputs["regions"]
    side = np.maximum(regions[:, 2] - regions[:, 0], 1e-6)
    focal = float(max(image_size))
    centre = np.array(image_size, dtype=float) / 2.0
    scale = np.maximum(out["camera"][:, 0], 1e-3)
    depth = focal / side / scale
    pixel = regions[:, :2] + out["camera"][:, 1:] * side[:, None]
    pelvis_cam = np.column_stack([(pixel - centre) * depth[:, None] / focal, depth])
    present = ~occluded
    pelvis_cam = gaussian_smooth(fill_gaps(pelvis_cam, present) if present.any() else pelvis_cam, 2 * sigma, wrap=False)
    return SmplMotion.from_local_rotations(local, pelvis_cam @ CAMERA_TO_WORLD.T, fps, smpl_skeleton())


@functools.lru_cache(maxsize=4)
def cached_lifter(path: str) -> NumpyLifter:
    """The lifter of weights ``path`` for inference: the NumPy copy beside them (``lifter_numpy``;
    no torch import), which must match them."""
    numpy_lifter = numpy_weights_for(path)
    if numpy_lifter is None:
        raise input_error(path, "no NumPy copy of these weights beside them (the .npz that `vidmimic estimator train` writes; "
                                "for other weights: python -c \"from lifter_research.lifter_train import write_numpy_weights; "
                                f"write_numpy_weights('{path}')\")")
    return numpy_lifter


def lifter_estimator(weights: str | Path = SHIPPED_WEIGHTS, mirror: bool = True, match_rate: bool = True):
    """An ``ESTIMATORS`` entry running the lifter with ``weights`` (``mirror``, ``match_rate``: see :func:`predict_video`)."""

    def estimator(front) -> SmplMotion:
        if not Path(weights).exists():
            raise input_error(weights, "no lifter weights here (train them with `vidmimic estimator train`)")
        kp = front.keypoints
        return lifter_to_smpl(cached_lifter(str(weights)), kp.keypoints, kp.confidence, kp.bbox, kp.occluded, front.flow,
                              front.fps, tuple(int(v) for v in kp.image_size), mirror, match_rate)

    return estimator
