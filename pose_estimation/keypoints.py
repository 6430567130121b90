"""2D keypoints in COCO-17 order: the ``keypoints.npz`` file and importers for other detectors.

``keypoints.npz`` arrays (T frames):
    ``keypoints`` ``(T, 17, 2)`` px in the upright frame; ``confidence`` ``(T, 17)`` in [0, 1];
    ``bbox`` ``(T, 4)`` px ``x0, y0, x1, y1`` of the tracked person; ``occluded`` ``(T,)`` bool,
    true where the person was not found (total occlusion: the frame is kept, values are 0);
    ``times`` ``(T,)`` s; ``image_size`` ``(2,)`` px ``width, height``.

Importers: OpenPose JSON folders (BODY_25 or COCO-18 models) and COCO-format keypoint JSON
(a results list or an annotations file), so users can bring their own detector's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from characters.errors import atomic_output, input_error

COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
# Index of each COCO-17 keypoint in other layouts.
FROM_MEDIAPIPE33 = np.array([0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])
FROM_OPENPOSE_BODY25 = np.array([0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11])
FROM_OPENPOSE_COCO18 = np.array([0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10])
# Left/right twin of each COCO-17 keypoint (for mirroring and swap repair).
COCO17_MIRROR = np.array([0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])


@dataclass
class Keypoints2D:
    keypoints: np.ndarray
    confidence: np.ndarray
    bbox: np.ndarray
    occluded: np.ndarray
    times: np.ndarray
    image_size: np.ndarray

    @property
    def num_frames(self) -> int:
        return self.keypoints.shape[0]

    def validate(self) -> None:
        t = self.num_frames
        if t == 0:
            raise ValueError("no frames")
        shapes = {"keypoints": (t, 17, 2), "confidence": (t, 17), "bbox": (t, 4), "occluded": (t,), "times": (t,), "image_size": (2,)}
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected {shape}")
        for name in ("keypoints", "confidence", "bbox", "times"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise ValueError(f"{name} contains NaN or infinity")


def write_keypoints(path: str | Path, kp: Keypoints2D) -> None:
    kp.validate()
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, keypoints=kp.keypoints, confidence=kp.confidence, bbox=kp.bbox, occluded=kp.occluded, times=kp.times, image_size=kp.image_size)


def read_keypoints(path: str | Path) -> Keypoints2D:
    try:
        with np.load(path, allow_pickle=False) as data:
            kp = Keypoints2D(*(np.asarray(data[k]) for k in ("keypoints", "confidence", "bbox", "occluded", "times", "image_size")))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise input_error(path, f"not a keypoints.npz file ({exc})") from None
    try:
        kp.validate()
    except ValueError as exc:
        raise input_error(path, str(exc)) from None
    return kp


def _from_people(people_per_frame: list[list[np.ndarray]], layout: np.ndarray, image_size: tuple[int, int], fps: float) -> Keypoints2D:
    """Pick one person per frame (the one nearest the previous pick, the largest at the start)
    from ``(J, 3)`` x, y, confidence arrays in a detector's layout."""
    t = len(people_per_frame)
    keypoints, confidence = np.zeros((t, 17, 2)), np.zeros((t, 17))
    bbox, occluded = np.zeros((t, 4)), np.ones(t, dtype=bool)
    previous: np.ndarray | None = None
    for i, people in enumerate(people_per_frame):
        candidates = [p[layout] for p in people if p.shape[0] > layout.max() and np.any(p[layout, 2] > 0)]
        if not candidates:
            continue

        def box(p: np.ndarray) -> np.ndarray:
            seen = p[p[:, 2] > 0, :2]
            return np.concatenate([seen.min(axis=0), seen.max(axis=0)])

        if previous is None:
            chosen = max(candidates, key=lambda p: np.prod(box(p)[2:] - box(p)[:2]))
        else:
            chosen = min(candidates, key=lambda p: np.linalg.norm(box(p) - previous))
        previous = box(chosen)
        keypoints[i], confidence[i], bbox[i], occluded[i] = chosen[:, :2], np.clip(chosen[:, 2], 0, 1), previous, False
    return Keypoints2D(keypoints, confidence, bbox, occluded, np.arange(t) / fps, np.array(image_size, dtype=float))


def import_openpose(folder: str | Path, image_size: tuple[int, int], fps: float) -> Keypoints2D:
    """A folder of OpenPose ``*_keypoints.json`` files (one per frame, in name order)."""
    folder = Path(folder)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise input_error(folder, "no OpenPose .json files")
    people_per_frame = []
    layout = None
    for f in files:
        try:
            data = json.loads(f.read_text())
            people = [np.asarray(p["pose_keypoints_2d"], dtype=float).reshape(-1, 3) for p in data.get("people", [])]
        except (OSError, json.JSONDecodeError, KeyError, ValueError) as exc:
            raise input_error(f, f"not an OpenPose keypoint file ({exc})") from None
        if people and layout is None:
            joints = people[0].shape[0]
            if joints not in (18, 25):
                raise input_error(f, f"{joints} keypoints per person; expected OpenPose BODY_25 or COCO-18")
            layout = FROM_OPENPOSE_BODY25 if joints == 25 else FROM_OPENPOSE_COCO18
        people_per_frame.append(people)
    if layout is None:
        raise input_error(folder, "no person in any frame")
    return _from_people(people_per_frame, layout, image_size, fps)


def import_coco(path: str | Path, image_size: tuple[int, int], fps: float) -> Keypoints2D:
    """COCO-format keypoints: a results list ``[{image_id, keypoints[51], score}]`` or an
    annotations file with ``images`` and ``annotations``; frames are images in id order."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise input_error(path, f"cannot read COCO keypoints ({exc})") from None
    annotations = data["annotations"] if isinstance(data, dict) and "annotations" in data else data
    if not isinstance(annotations, list):
        raise input_error(path, "expected a list of keypoint results or an object with 'annotations'")
    image_ids = sorted({img["id"] for img in data["images"]}) if isinstance(data, dict) and "images" in data else sorted({a["image_id"] for a in annotations})
    index = {image_id: i for i, image_id in enumerate(image_ids)}
    people: list[list[np.ndarray]] = [[] for _ in image_ids]
    try:
        for a in annotations:
            people[index[a["image_id"]]].append(np.asarray(a["keypoints"], dtype=float).reshape(17, 3))
    except (KeyError, ValueError) as exc:
        raise input_error(path, f"malformed COCO keypoint entry ({exc})") from None
    coco = [[np.concatenate([p[:, :2], np.where(p[:, 2:] > 1, 1.0, p[:, 2:])], axis=1) for p in frame] for frame in people]
    return _from_people(coco, np.arange(17), image_size, fps)
