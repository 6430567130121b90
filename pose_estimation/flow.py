"""Dense optical flow on the person crop (OpenCV's DIS), stored compactly per frame.

For frame t the crop box of frame t is cut from frames t-1 and t, both are resized to
``size x size`` grey images, and DIS estimates the flow from t-1 to t. The flow is averaged
down to ``cells x cells`` and divided by ``size``: units are crop widths per frame, so it
does not depend on the video's resolution. Frame 0, and frames where the person is missing,
have zero flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pose_estimation.camera import square_box

DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST, "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


@dataclass(frozen=True)
class FlowOptions:
    size: int = 128  # px, side of the square crop the flow is computed on
    cells: int = 32  # side of the stored flow grid
    preset: str = "fast"  # DIS preset


def crop(frame: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """Grey ``(size, size)`` uint8 crop of ``frame`` inside ``box`` (outside the frame is black)."""
    x0, y0, x1, y1 = box
    scale = size / max(x1 - x0, 1e-6)
    affine = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], dtype=np.float64)
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(cv2.warpAffine(grey, affine, (size, size), flags=cv2.INTER_AREA))


class CropFlow:
    """Streams frames and boxes in, returns one ``(cells, cells, 2)`` float16 flow per frame."""

    def __init__(self, options: FlowOptions = FlowOptions()):
        self.options = options
        self.dis = cv2.DISOpticalFlow_create(DIS_PRESETS[options.preset])
        self._previous: np.ndarray | None = None

    def between(self, before: np.ndarray, current: np.ndarray) -> np.ndarray:
        """``(cells, cells, 2)`` float16 flow from crop ``before`` to crop ``current`` (grey, ``size x size``)."""
        o = self.options
        flow = self.dis.calc(before, current, None)
        k = o.size // o.cells
        return (flow.reshape(o.cells, k, o.cells, k, 2).mean(axis=(1, 3)) / o.size).astype(np.float16)

    def __call__(self, frame: np.ndarray, box: np.ndarray | None) -> np.ndarray:
        o = self.options
        out = np.zeros((o.cells, o.cells, 2), dtype=np.float16)
        if box is None:
            self._previous = None
            return out
        square = square_box(box)
        current = crop(frame, square, o.size)
        if self._previous is not None:
            out = self.between(crop(self._previous, square, o.size), current)
        self._previous = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        return out
