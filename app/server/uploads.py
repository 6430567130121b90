"""Accepting an uploaded video as a new job.

The multipart body is streamed straight into a new job folder (the size limit enforced as it
arrives; the form's small fields kept in memory, each capped), the file is checked by decoding a
frame, and only then is the job row made. The folder carries an ``.incoming`` mark until then, so
a rejected, failed or interrupted upload leaves nothing: no row, and no folder (removed at once,
or by the next server start if the server died meanwhile).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.server.settings import Settings
from app.server.store import JobStore, QueueFull, new_job_id
from app.server.worker import LOCK_NAME

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
INCOMING = ".incoming"
FIELD_LIMIT = 4096  # bytes in one form field
MAX_PARTS = 16
FORM_ALLOWANCE = 1 << 20  # bytes of multipart framing and fields allowed beyond the video


class UploadRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    path: Path
    filename: str
    fields: dict[str, str]


@dataclass
class _Parts:
    """The multipart parser's callbacks: the part named ``file`` into ``job_dir/upload.part``, other fields into ``fields``."""

    job_dir: Path
    max_bytes: int
    max_mb: float
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    written: int = 0
    parts: int = 0
    ended: bool = False
    _file: IO | None = None
    _in_file: bool = False
    _name: str = ""
    _header: bytes = b""
    _value: bytes = b""
    _disposition: bytes = b""
    _data: bytearray = field(default_factory=bytearray)

    def callbacks(self) -> dict:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field, "on_header_value": self.header_value,
                "on_header_end": self.header_end, "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
                "on_part_end": self.part_end, "on_end": self.end}

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UploadRejected(400, f"more than {MAX_PARTS} form fields")
        self._disposition, self._data, self._in_file, self._name = b"", bytearray(), False, ""

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        if len(self._value) > FIELD_LIMIT:
            raise UploadRejected(431, "a form field's header is too long")

    def header_end(self) -> None:
        if self._header.strip().lower() == b"content-disposition":
            self._disposition = self._value
        self._header, self._value = b"", b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options and self._name == "file":
            if self.filename is not None:
                raise UploadRejected(400, "one video per upload")
            self.filename = options[b"filename"].decode("utf-8", "replace")
            self._file = (self.job_dir / "upload.part").open("wb")
            self._in_file = True

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.written += end - start
            if self.written > self.max_bytes:
                raise UploadRejected(413, f"upload larger than {self.max_mb:g} MB")
            assert self._file is not None
            self._file.write(data[start:end])
        else:
            self._data += data[start:end]
            if len(self._data) > FIELD_LIMIT:
                raise UploadRejected(413, f"form field {self._name[:40]!r} longer than {FIELD_LIMIT} bytes")

    def part_end(self) -> None:
        if self._in_file:
            assert self._file is not None
            self._file.close()
            self._in_file = False
        elif self._name:
            self.fields[self._name] = self._data.decode("utf-8", "replace")

    def end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


async def receive_upload(content_type: str, chunks: AsyncIterator[bytes], job_dir: Path, max_bytes: int, max_mb: float) -> Upload:
    """Stream a ``multipart/form-data`` body into the new folder ``job_dir`` (the part named ``file``
    becomes ``upload<ext>``); UploadRejected (4xx) for a body that is not one, too large or cut short."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise UploadRejected(415, "send the video as multipart/form-data, in a form field named 'file'")
    if not params.get(b"boundary"):
        raise UploadRejected(400, "multipart body without a boundary")
    job_dir.mkdir(parents=True)
    (job_dir / INCOMING).touch()
    (job_dir / LOCK_NAME).touch()  # the workers' lock on the job (made now, so taking it later needs no disk space)
    parts = _Parts(job_dir, max_bytes, max_mb)
    received = 0
    try:
        parser = MultipartParser(params[b"boundary"], parts.callbacks())
        async for chunk in chunks:
            received += len(chunk)
            if received > max_bytes + FORM_ALLOWANCE:  # a body of fields and framing around nothing, or a chunked upload
                raise UploadRejected(413, f"upload larger than {max_mb:g} MB")
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise UploadRejected(400, "malformed multipart body") from None
    finally:
        parts.close()
    if not parts.ended:
        raise UploadRejected(400, "the upload ended early (incomplete multipart body)")
    if parts.filename is None:
        raise UploadRejected(422, "no video in the upload: send it in a form field named 'file'")
    if parts.written == 0:
        raise UploadRejected(400, "empty upload")
    suffix = Path(parts.filename).suffix.lower()
    target = job_dir / f"upload{suffix if suffix in VIDEO_SUFFIXES else '.mp4'}"
    (job_dir / "upload.part").replace(target)
    return Upload(target, parts.filename, parts.fields)


def check_video(path: Path, filename: str) -> None:
    """Decode a frame: the type is checked by content, not by name (415 if not a video, 422 for a still)."""
    from characters.errors import InputError
    from pose_estimation.video import probe

    try:
        info = probe(path)
    except InputError as exc:
        raise UploadRejected(415, f"{filename}: {str(exc).split(': ', 1)[-1]}") from None
    if info.frame_count == 1:
        raise UploadRejected(422, f"{filename}: a single frame; motion needs a video")


def job_options(fields: dict[str, str], settings: Settings) -> dict:
    """The job's settings from the form's fields (422 for a bad one)."""
    from characters.errors import InputError
    from pose_estimation import check_estimator

    minutes = settings.train_minutes
    if fields.get("train_minutes", "").strip():
        try:
            minutes = float(fields["train_minutes"])
        except ValueError:
            raise UploadRejected(422, "train_minutes must be a number") from None
    if not 0 < minutes <= 24 * 60:
        raise UploadRejected(422, "train_minutes must be in (0, 1440]")
    walk = fields.get("walk_cycle", "").strip().lower()
    if walk not in ("", "true", "false", "on", "off", "1", "0", "yes", "no"):
        raise UploadRejected(422, "walk_cycle must be true or false")
    assist = fields.get("assist", "").strip().lower()
    if assist not in ("", "true", "false", "on", "off", "1", "0", "yes", "no"):
        raise UploadRejected(422, "assist must be true or false")
    estimator = fields.get("estimator", "").strip() or settings.estimator  # the form's "server default" sends an empty value
    try:
        check_estimator(estimator)
    except InputError as exc:
        raise UploadRejected(422, str(exc)) from None
    return {"train_minutes": minutes, "walk_cycle": walk in ("true", "on", "1", "yes"), "estimator": estimator, "assist": assist in ("true", "on", "1", "yes")}


def display_name(filename: str) -> str:
    """The job's name: the upload's file name without folders or control characters."""
    name = "".join(c for c in Path(filename).name if c.isprintable())
    return name[:200] or "video"


def storage_failure(exc: BaseException) -> UploadRejected | None:
    """A write error as the answer to give (507 for a full disk), or None if ``exc`` is not one."""
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return UploadRejected(507, "the server's disk is full; the upload was not kept")
        return UploadRejected(500, f"the server could not store the upload ({exc.strerror or exc})")
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        return UploadRejected(507, "the server's disk is full; the upload was not kept")
    return None


async def accept_upload(content_type: str, chunks: AsyncIterator[bytes], settings: Settings, store: JobStore) -> str:
    """Make a job of an upload; its id. UploadRejected with the HTTP status and a one-line reason otherwise."""
    from starlette.concurrency import run_in_threadpool

    if store.count_queued() >= settings.max_queued_jobs:
        raise UploadRejected(429, f"{settings.max_queued_jobs} jobs are already waiting; try again when some have run")
    job_id = new_job_id()
    job_dir = settings.jobs_dir / job_id
    try:
        upload = await receive_upload(content_type, chunks, job_dir, settings.max_upload_bytes, settings.max_upload_mb)
        options = job_options(upload.fields, settings)
        await run_in_threadpool(check_video, upload.path, upload.filename)
        await run_in_threadpool(store.create, display_name(upload.filename), options["train_minutes"], options["walk_cycle"], options["estimator"],
                                job_id, settings.max_queued_jobs, options["assist"])
    except BaseException as exc:
        shutil.rmtree(job_dir, ignore_errors=True)
        if isinstance(exc, QueueFull):
            raise UploadRejected(429, f"{settings.max_queued_jobs} jobs are already waiting; try again when some have run") from None
        failure = storage_failure(exc)
        if failure is not None:
            raise failure from None
        raise
    try:
        (job_dir / INCOMING).unlink()
    except OSError:
        pass  # the row exists: the mark is harmless
    return job_id
