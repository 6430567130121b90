"""Accepting an uploaded video: size limit while streaming to disk, then a content check by decoding."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO

from characters.errors import InputError
from pose_estimation.video import probe


class UploadRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def save_upload(source: BinaryIO, job_dir: Path, filename: str, max_bytes: int) -> Path:
    """Stream ``source`` into ``job_dir/upload<ext>``; reject oversize (413) or non-video content (415)."""
    job_dir.mkdir(parents=True)
    suffix = Path(filename).suffix.lower() if Path(filename).suffix.lower() in (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v") else ".mp4"
    target = job_dir / f"upload{suffix}"
    written = 0
    try:
        with target.open("wb") as f:
            while block := source.read(1 << 20):
                written += len(block)
                if written > max_bytes:
                    raise UploadRejected(413, f"upload larger than {max_bytes // (1 << 20)} MB")
                f.write(block)
        if written == 0:
            raise UploadRejected(400, "empty upload")
        try:
            info = probe(target)  # decodes a frame: the type is checked by content, not by name
        except InputError as exc:
            raise UploadRejected(415, f"{filename}: {str(exc).split(': ', 1)[-1]}") from None
        if info.frame_count == 1:
            raise UploadRejected(422, f"{filename}: a single frame; motion needs a video")
    except BaseException:
        shutil.rmtree(job_dir, ignore_errors=True)
        raise
    return target
