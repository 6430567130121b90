"""The project's one error type for bad input, and atomic file writing.

Every stage raises :class:`InputError` when a file or argument is unusable; the CLI prints
its message on one line and exits non-zero, the server answers 4xx. Messages name the file
and the problem.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class InputError(ValueError):
    """Bad user input: a file or argument vidmimic cannot use. The message is one line."""


def input_error(path: str | os.PathLike | None, problem: str) -> InputError:
    """An :class:`InputError` whose message names ``path`` (when given) and ``problem``."""
    return InputError(f"{path}: {problem}" if path is not None else problem)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A crash or an exception leaves neither a half-written ``path`` nor the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; outputs get normal permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
