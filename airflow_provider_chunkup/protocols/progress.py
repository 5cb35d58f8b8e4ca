"""Progress of a transfer, reported through a small callback at a sensible rate."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes acknowledged so far, total bytes) after every acknowledged chunk."""


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


class ProgressLog:
    """Logs bytes, percent, MiB/s and ETA at most every ``interval`` seconds, and once at the end."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter, label: str,
                 interval: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = logger
        self._label = label
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last = self._started

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if done < total and now - self._last < self._interval:
            return
        self._last = now
        self._log.info("%s", self.line(done, total, now))

    def line(self, done: int, total: int, now: float | None = None) -> str:
        elapsed = max(1e-9, (self._clock() if now is None else now) - self._started)
        rate = done / elapsed
        percent = 100.0 * done / total if total else 100.0
        eta = (total - done) / rate if rate > 0 else float("inf")
        eta_text = "done" if done >= total else (f"ETA {eta:.0f} s" if eta != float("inf") else "ETA ?")
        return (f"{self._label}: {format_bytes(done)} of {format_bytes(total)} ({percent:.1f}%), "
                f"{rate / (1024 * 1024):.1f} MiB/s, {eta_text}")
