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


def _timestamp(capture: cv2.VideoCapture, last_time: float, nominal: float) -> float:
    """The decoder's time of the frame just grabbed (s), or the previous plus one nominal frame
    where the container reports none or a repeated one."""
    t = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
    if not np.isfinite(t) or t <= last_time:  # some containers report no or repeated times
        t = last_time + 1.0 / nominal if last_time >= 0 else 0.0
    return t


def frames(path: str | Path, max_frames: int | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(timestamp s, BGR frame (H, W, 3) uint8)`` in order, upright (the file is opened at the first frame)."""
    yield from Reader(path, max_frames)


class FrameSampler:
    """Which frames :func:`sampled_frames` keeps: the first whose decoder time (``CAP_PROP_POS_MSEC``,
    as reported) is at least ``every_seconds`` after the last kept, at most ``max_samples``."""

    def __init__(self, every_seconds: float, max_samples: int | None = None):
        self.every_seconds = every_seconds
        self.max_samples = max_samples
        self.count = 0
        self._next_time = 0.0

    @property
    def done(self) -> bool:
        return self.max_samples is not None and self.count >= self.max_samples

    def take(self, reported_time: float) -> bool:
        """Whether the frame at ``reported_time`` s is a sample (counted if so)."""
        if self.done or reported_time + 1e-6 < self._next_time:
            return False
        self._next_time = reported_time + self.every_seconds
        self.count += 1
        return True


class Reader:
    """:func:`frames` as an object: opening checks the file (bad input raises at once, in the
    caller's thread) and gives the container's ``fps`` and ``frame_count``; iterating yields
    what :func:`frames` yields and releases the file at the end."""

    def __init__(self, path: str | Path, max_frames: int | None = None):
        self.path = Path(path)
        self.max_frames = max_frames
        self._capture = _open(self.path)
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.frame_count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        capture = self._capture
        nominal = self.fps or 30.0
        count, last_time = 0, -1.0
        try:
            while self.max_frames is None or count < self.max_frames:
                ok, frame = capture.read()
                if not ok or frame is None:
                    break
                last_time = t = _timestamp(capture, last_time, nominal)
                count += 1
                yield t, frame
            if count == 0:
                raise input_error(self.path, "no decodable video frames")
        finally:
            capture.release()

    def close(self) -> None:
        self._capture.release()


def sampled_frames(path: str | Path, every_seconds: float, max_samples: int | None = None) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield ``(frame index, timestamp s, BGR frame)`` about every ``every_seconds`` (:class:`FrameSampler`);
    the frames in between are grabbed without conversion (cheaper than a full read)."""
    path = Path(path)
    capture = _open(path)
    sampler = FrameSampler(every_seconds, max_samples)
    try:
        index = -1
        while not sampler.done:
            if not capture.grab():
                break
            index += 1
            t = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not sampler.take(t):
                continue
            ok, frame = capture.retrieve()
            if not ok:
                break
            yield index, t, frame
    finally:
        capture.release()
