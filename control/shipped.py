"""Where the policies vidmimic ships live (made by its own commands; see each folder's README)."""

from __future__ import annotations

from pathlib import Path

from characters.places import POLICIES

TRACKER = POLICIES / "tracker" / "policy.zip"
"""The general motion tracker (``vidmimic tracker train``): the controller every clip starts from."""


def shipped_tracker() -> Path | None:
    """The shipped tracker's policy zip, or None when this checkout has none."""
    return TRACKER if TRACKER.is_file() else None
