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


def field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring in the class body of ``cls`` (the string right after the field), on one line."""
    import ast
    import inspect
    import textwrap

    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    docs = {}
    for node, after in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            docs[node.target.id] = " ".join(after.value.value.split()).replace("``", "`")
    return docs


def _shown(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def config_option(parser, flag: str, config: object, field: str, *, unset: bool = False, note: str = "", **kwargs) -> None:
    """Add ``flag`` for ``field`` of the dataclass instance ``config``: its help is the field's
    docstring and its default the instance's value, so neither is written twice. ``unset``: the
    parsed default is None (the command fills it in, e.g. from a warm-start policy) while the help
    still shows the instance's value; ``note`` is appended to the help."""
    default = getattr(config, field)
    doc = field_docs(type(config)).get(field, "")
    kwargs.setdefault("type", type(default))
    help_text = f"{doc.rstrip('.')} (default {_shown(default)}{'; ' + note if note else ''})".strip()
    parser.add_argument(flag, default=None if unset else default, help=help_text.replace("%", "%%"), **kwargs)
