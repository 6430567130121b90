"""Per-client limits the routes apply: open job-progress streams per client address."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable


class StreamSlots:
    """At most ``per_client`` open event streams per client address."""

    def __init__(self, per_client: int):
        self.per_client = per_client
        self.open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, client: str) -> Callable[[], None] | None:
        """A slot for ``client``: the function that gives it back (safe to call more than once), or None if it has none left."""
        with self._lock:
            if self.open[client] >= self.per_client:
                return None
            self.open[client] += 1
        given_back = threading.Event()

        def give_back() -> None:
            with self._lock:
                if given_back.is_set():
                    return
                given_back.set()
                self.open[client] -= 1
                if self.open[client] <= 0:
                    del self.open[client]

        return give_back
