"""Third-party log noise off the terminal, without hiding anything else.

MediaPipe's TensorFlow Lite and absl, OpenCV's FFmpeg backend and pybullet write their
chatter from C/C++ straight to file descriptor 2, and no environment variable of theirs
silences it (measured 2026-12-04 with mediapipe 0.10.21, opencv 5.0.0, pybullet 3.2.7:
GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL, ABSL_MIN_LOG_LEVEL, OPENCV_LOG_LEVEL and
OPENCV_FFMPEG_LOGLEVEL change nothing). So :func:`install` points fd 2 at a pipe read by a
small filter process that drops the lines matching :data:`NOISE` and passes every other byte
through unchanged: our progress lines, warnings, absl errors (``E``/``F`` lines) and
tracebacks stay visible.

A separate process rather than a thread, so a crash or ``os._exit`` cannot lose the last
lines: the filter drains the pipe until every writer has closed it. Child processes inherit
the filtered fd 2, so MPI ranks (their output goes through ``mpiexec``) and the web app's
worker processes are quiet too; ``VIDMIMIC_VERBOSE=1`` (what ``--verbose`` sets) keeps
everything in the process and its children.

Run as a script (``python -I -S quiet.py``), this file is the filter: stdin to stdout.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import subprocess
import sys

VERBOSE_ENV = "VIDMIMIC_VERBOSE"
FILTERED_ENV = "VIDMIMIC_STDERR_FILTERED"
"""Set once fd 2 goes through the filter; its value says whether the real stderr is a terminal."""

NOISE = re.compile(
    rb"(?:"
    rb"[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.\-/]+:\d+\] "  # absl/glog INFO and WARNING (E and F stay)
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|WARNING: Logging before InitGoogleLogging\(\) is written to STDERR"
    rb"|INFO: (?:Created|Initialized) TensorFlow Lite "
    rb"|OpenCV: FFMPEG: (?:tag 0x[0-9a-fA-F]+/'.{4}' is not supported with codec id|fallback to use tag 0x)"
    rb"|pybullet build time: "
    rb").*"
)
"""A line of third-party noise; it may follow a partial line of ours (a progress bar being redrawn)."""

_NOISE_STARTS = (b"I0", b"W0", b"WARNING: All", b"WARNING: Logging", b"INFO: ", b"OpenCV: FFMPEG", b"pybullet build")


def is_verbose() -> bool:
    return os.environ.get(VERBOSE_ENV) == "1"


def stderr_is_terminal() -> bool:
    """Whether what the user sees of stderr is a terminal (fd 2 itself is a pipe once filtered)."""
    filtered = os.environ.get(FILTERED_ENV)
    if filtered is not None:
        return filtered == "tty"
    return sys.stderr.isatty()


def install(verbose: bool = False) -> None:
    """Filter fd 2 of this process and its future children (see module docstring); idempotent.

    ``verbose`` (or ``VIDMIMIC_VERBOSE=1``) leaves fd 2 alone and tells children to do the same.
    """
    if verbose or is_verbose():
        os.environ[VERBOSE_ENV] = "1"
        return
    if FILTERED_ENV in os.environ:
        return  # a parent's filter already reads our fd 2
    try:
        terminal = os.isatty(2)
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        # The filter ignores Ctrl-C and SIGTERM (sent to the whole group): it must outlive
        # the shutdown messages it forwards, and it ends when the last writer closes the pipe.
        process = subprocess.Popen([sys.executable, "-I", "-S", os.path.abspath(__file__)], stdin=read_end, stdout=2, stderr=subprocess.DEVNULL,
                                   preexec_fn=_ignore_stop_signals)
        original = os.dup(2)
    except OSError:
        return  # no filter beats no program
    os.close(read_end)
    os.dup2(write_end, 2)
    os.close(write_end)
    os.environ[FILTERED_ENV] = "tty" if terminal else "pipe"
    atexit.register(_drain, process, original)


def _drain(process: subprocess.Popen, original: int, timeout_s: float = 2.0) -> None:
    """At exit: hand fd 2 back and let the filter finish writing, so a shell that reads the
    log right after this process ends finds all of it (children still running keep it open)."""
    try:
        sys.stderr.flush()
        os.dup2(original, 2)
        process.wait(timeout_s)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        pass


def _ignore_stop_signals() -> None:
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)


def strip_noise(segment: bytes) -> bytes:
    """``segment`` (one line with its ``\\n`` or ``\\r``) without the third-party noise in it."""
    match = NOISE.search(segment)
    if match is None:
        return segment
    return segment[: match.start()]  # the line's terminator goes with the noise


def _might_become_noise(tail: bytes) -> bool:
    """True if an unterminated ``tail`` could still turn into a noise line: wait for its end."""
    start = tail.lstrip(b"\r")
    return any(start[: len(p)] == p[: len(start)] for p in _NOISE_STARTS)  # either is a prefix of the other


def filter_stream(source: int = 0, sink: int = 1) -> None:
    """Copy ``source`` to ``sink`` until end of file, dropping noise lines (the filter process)."""
    pending = b""
    while True:
        try:
            chunk = os.read(source, 65536)
        except InterruptedError:
            continue
        if not chunk:
            break
        pending += chunk
        out = []
        start = 0
        for m in re.finditer(rb"[\r\n]", pending):
            out.append(strip_noise(pending[start : m.end()]))
            start = m.end()
        pending = pending[start:]
        if pending and not _might_become_noise(pending):
            out.append(pending)  # a progress bar drawn in place has no line end yet
            pending = b""
        _write(sink, b"".join(out))
    _write(sink, strip_noise(pending))


def _write(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data) :]
        except InterruptedError:
            continue
        except OSError:
            return  # the terminal is gone: keep draining so writers never block


if __name__ == "__main__":
    filter_stream()
