"""A terminal progress bar for stage callbacks ``progress(done, total)``."""

from __future__ import annotations

import sys
import time

from app.quiet import stderr_is_terminal


class ProgressBar:
    """Draws ``label [#####.....] done/total  elapsed  ETA`` on stderr, redrawn in place."""

    def __init__(self, label: str, width: int = 30):
        self.label = label
        self.width = width
        self.start = time.monotonic()
        self._last_draw = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        interactive = stderr_is_terminal()
        if done < total and (not interactive or now - self._last_draw < 0.1):
            return  # logs get one line per stage; terminals a live bar
        self._last_draw = now
        frac = done / total if total else 1.0
        elapsed = now - self.start
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        bar = "#" * int(frac * self.width) + "." * (self.width - int(frac * self.width))
        sys.stderr.write(f"{chr(13) if interactive else ''}{self.label:<12} [{bar}] {done}/{total}  {elapsed:5.1f}s  ETA {eta:5.1f}s")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
