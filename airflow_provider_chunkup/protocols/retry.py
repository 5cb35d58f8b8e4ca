"""Retry policy shared by every protocol: which failures to retry, and how long to wait."""

from __future__ import annotations

import datetime
import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from airflow_provider_chunkup.errors import ConfigurationError

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in attempts and in total time per request.

    ``max_attempts`` counts the first try. Rate-limit waits announced by the platform are honoured
    as long as they fit in ``max_elapsed`` seconds.
    """

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_elapsed: float = 600.0
    jitter: float = 0.25
    statuses: frozenset[int] = field(default=RETRYABLE_STATUSES)

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> RetryPolicy:
        """Build from connection/operator options such as ``retry_max_attempts``."""
        fields = {"retry_max_attempts": ("max_attempts", int), "retry_backoff_initial": ("backoff_initial", float),
                  "retry_backoff_max": ("backoff_max", float), "retry_max_elapsed": ("max_elapsed", float)}
        unknown = sorted(k for k in options if k.startswith("retry_") and k not in fields)
        if unknown:
            raise ConfigurationError(
                f"Unknown retry setting(s) {', '.join(unknown)}; known: {', '.join(fields)} (or without 'retry_')."
            )
        kwargs: dict[str, float | int] = {}
        for key, (name, kind) in fields.items():
            value = options.get(key)
            if value in (None, ""):
                continue
            try:
                kwargs[name] = kind(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ConfigurationError(f"{key} must be a number, got {value!r}.") from None
            if kwargs[name] < (1 if name == "max_attempts" else 0):
                raise ConfigurationError(f"{key} must be {'at least 1' if name == 'max_attempts' else '>= 0'}, "
                                         f"got {value!r}.")
        return cls(**kwargs)  # type: ignore[arg-type]

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return base * (1 + random.uniform(-self.jitter, self.jitter))

    def wait_after(self, error: BaseException, attempt: int) -> float:
        """Seconds to wait after ``error`` ended attempt ``attempt``: the wait a 429 announced (its
        ``retry_after``), else the backoff. For callers that retry by themselves (one attempt per request)."""
        announced = getattr(error, "retry_after", None)
        return announced if announced is not None else self.backoff(attempt)


def announced_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the platform asks us to wait, from ``Retry-After`` or rate-limit reset headers."""
    now = time.time() if now is None else now
    for name in ("retry-after", "x-ratelimit-retry-after"):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                parsed = email.utils.parsedate_to_datetime(value)
                if parsed is not None:
                    return max(0.0, parsed.timestamp() - now)
    for name in ("x-rate-limit-reset", "x-ratelimit-reset"):  # X's, and Vimeo's (Unix seconds or ISO 8601)
        reset = headers.get(name)
        if reset:
            try:
                return max(0.0, float(reset) - now)
            except ValueError:
                try:
                    moment = datetime.datetime.fromisoformat(reset.strip().replace("Z", "+00:00"))
                except ValueError:
                    return None
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=datetime.UTC)
                return max(0.0, moment.timestamp() - now)
    return None
