"""The database away: a one-line account of its errors (which errors say so:
`database_unreachable` in bot/orders/sql/database.py), and the growing pause
of a loop that waits for it to come back.

A long-running loop (the notifier, its promise watcher, the staff-reply relay)
must not die when PostgreSQL restarts or the network drops for a minute: the
connection errors are caught where the loop turns, logged as one line and
tried again after a pause that doubles up to a cap. Any other error (a
missing table, a bug) still ends the process: retrying cannot mend it.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def describe(error: BaseException) -> str:
    """One line about a connection error: the driver's first line, never the
    statement or its parameters (which may hold a customer's data)."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    first = lines[0].strip()[:200] if lines else ""
    return f"{type(original).__name__}: {first}" if first else type(original).__name__


class Pacing:
    """The pause before trying again: `first` seconds, doubling to `cap` while
    the failures go on, back to `first` once something worked."""

    def __init__(self, first: float = 1.0, cap: float = 30.0) -> None:
        self.first = first
        self.cap = max(first, cap)
        self._next = first
        self.failures = 0

    def failed(self) -> float:
        """A failure: the pause to make now."""
        wait = self._next
        self._next = min(self._next * 2, self.cap)
        self.failures += 1
        return wait

    def worked(self) -> int:
        """Success: the pause starts over. How many failures came before it."""
        failures, self.failures, self._next = self.failures, 0, self.first
        return failures


def pause(seconds: float, stopping: Callable[[], bool], slice_seconds: float = 0.2) -> None:
    """Sleep `seconds`, in short slices, so that a SIGTERM is answered at once."""
    deadline = time.monotonic() + seconds
    while not stopping():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(slice_seconds, left))
