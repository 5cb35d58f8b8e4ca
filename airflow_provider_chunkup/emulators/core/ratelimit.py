"""Fixed-window request counters: each API turns a bucket's state into its own rate-limit headers."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimitState:
    """One bucket after counting (or just looking at) a request."""

    limit: int
    remaining: int
    reset: int
    allowed: bool


class RateLimiter:
    """Counts requests per bucket in fixed windows that start at a bucket's first request.

    The limit and window are passed on every call (read from the live config), so a test can
    lower them between requests and the current window follows immediately.
    """

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def take(self, bucket: str, limit: int, window_secs: float, now: float | None = None) -> RateLimitState:
        """Count one request; ``allowed`` is False once the window's limit is used up."""
        return self._count(bucket, limit, window_secs, time.time() if now is None else now, cost=1)

    def peek(self, bucket: str, limit: int, window_secs: float, now: float | None = None) -> RateLimitState:
        """The bucket's state without counting a request (for rejected-before-counting replies)."""
        return self._count(bucket, limit, window_secs, time.time() if now is None else now, cost=0)

    def reset(self) -> None:
        self._windows.clear()

    def _count(self, bucket: str, limit: int, window_secs: float, now: float, cost: int) -> RateLimitState:
        start, used = self._windows.get(bucket, (now, 0))
        if now >= start + window_secs:
            start, used = now, 0
        allowed = used + cost <= limit
        if allowed:
            used += cost
        self._windows[bucket] = (start, used)
        return RateLimitState(
            limit=limit,
            remaining=max(limit - used, 0),
            reset=math.ceil(start + window_secs),
            allowed=allowed or cost == 0,
        )
