"""Video files the project writes: the container and codec follow the file name.

``.webm`` is VP8, which web browsers play (the web app and reports use it); ``.mp4`` is
MPEG-4 Part 2, fast to write and read by desktop players and OpenCV, but not by browsers.
(The OpenCV wheel's FFmpeg has no H.264 encoder.)
"""

from __future__ import annotations

from pathlib import Path

import cv2

CODECS = {".webm": "VP80", ".mp4": "mp4v", ".avi": "MJPG"}


def open_writer(path: str | Path, fps: float, size: tuple[int, int], kind: str | None = None) -> cv2.VideoWriter:
    """A ``cv2.VideoWriter`` for ``size`` (width, height) px; ``kind`` (a suffix) overrides ``path``'s,
    for temporary names."""
    suffix = (kind or Path(path).suffix).lower()
    if suffix not in CODECS:
        raise ValueError(f"unsupported video format {suffix}; use one of {', '.join(CODECS)}")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*CODECS[suffix]), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {suffix} video here")
    return writer
