"""Video ingest: stream frames with their timestamps, upright, one at a time.

OpenCV's FFmpeg backend applies the container's rotation metadata itself
(``CAP_PROP_ORIENTATION_AUTO``), so a portrait phone video arrives portrait. Timestamps come
from the decoder (``CAP_PROP_POS_MSEC``), which keeps variable-frame-rate footage in real
time; frames are yielded one by one, so memory stays bounded for any length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from characters.errors import input_error

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")


@dataclass(frozen=True)
class VideoInfo:
    """What the container says: frame size after rotation (px), nominal rate (Hz), frame count."""

    path: Path
    width: int
    height: int
    fps: float
    frame_count: int
    rotation_deg: int


def _open(path: Path) -> cv2.VideoCapture:
    if not path.is_file():
        raise input_error(path, "no such file")
    if path.stat().st_size == 0:
        raise input_error(path, "empty file")
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise input_error(path, "not a video OpenCV/FFmpeg can decode")
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def probe(path: str | Path) -> VideoInfo:
    """Read the container's metadata and decode the first frame to check the stream is usable."""
    path = Path(path)
    capture = _open(path)
    try:
        ok, frame = capture.read()
        if not ok or frame is None:
            raise input_error(path, "no decodable video frames")
        return VideoInfo(
            path=path,
            width=frame.shape[1],
            height=frame.shape[0],
            fps=float(capture.get(cv2.CAP_PROP_FPS) or 0.0),
            frame_count=int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
            rotation_deg=int(capture.get(cv2.CAP_PROP_ORIENTATION_META) or 0),
        )
    finally:
        capture.release()


def frames(path: str | Path, max_frames: int | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(timestamp s, BGR frame (H, W, 3) uint8)`` in order, upright."""
    path = Path(path)
    capture = _open(path)
    try:
        count = 0
        last_time = -1.0
        nominal = capture.get(cv2.CAP_PROP_FPS) or 30.0
        while max_frames is None or count < max_frames:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            t = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not np.isfinite(t) or t <= last_time:  # some containers report no or repeated times
                t = last_time + 1.0 / nominal if last_time >= 0 else 0.0
            last_time = t
            count += 1
            yield t, frame
        if count == 0:
            raise input_error(path, "no decodable video frames")
    finally:
        capture.release()


def sampled_frames(path: str | Path, every_seconds: float, max_samples: int | None = None) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield ``(frame index, timestamp s, BGR frame)`` about every ``every_seconds``; the frames in
    between are grabbed without conversion (cheaper than a full read)."""
    path = Path(path)
    capture = _open(path)
    try:
        index, next_time, count = -1, 0.0, 0
        while max_samples is None or count < max_samples:
            if not capture.grab():
                break
            index += 1
            t = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if t + 1e-6 < next_time:
                continue
            ok, frame = capture.retrieve()
            if not ok:
                break
            next_time = t + every_seconds
            count += 1
            yield index, t, frame
    finally:
        capture.release()
