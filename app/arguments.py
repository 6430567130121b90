"""What every command of the CLI shares: the arguments it was called with, and file checks."""

from __future__ import annotations

import sys
from pathlib import Path

argv_override: list[str] | None = None
"""The arguments ``main(argv)`` was called with (None: the process's own), for relaunching under MPI."""


def command_line() -> list[str]:
    """The arguments of this invocation, without the program name."""
    return sys.argv[1:] if argv_override is None else list(argv_override)


def require_file(path: str | Path) -> None:
    """An InputError naming ``path`` unless it is an existing file."""
    from characters.errors import input_error

    if not Path(path).is_file():
        raise input_error(path, "no such file")
