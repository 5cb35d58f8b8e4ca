"""Request counters per route, so tests can prove what a client actually sent."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

#: Handlers may set this scope key to name the route in stats more precisely than its path.
STATS_KEY = "chunkup.stats_key"
#: The operation a request names inside it (``EmulatedApi.request_command``), appended to its route's key.
COMMAND_KEY = "chunkup.command"


@dataclass
class RouteStats:
    requests: int = 0
    body_bytes: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


class RequestStats:
    """Totals and per-route counts of requests, request body bytes and response statuses.

    Routes are keyed ``"METHOD /path/{template}"``; a path that serves several operations adds the
    one a request names (``STATS_KEY``: ``"POST /path OPERATION"``).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.since = time.time()
        self.total_requests = 0
        self.total_body_bytes = 0
        self.routes: dict[str, RouteStats] = {}

    def record(self, route: str, body_bytes: int, status: str) -> None:
        self.total_requests += 1
        self.total_body_bytes += body_bytes
        entry = self.routes.setdefault(route, RouteStats())
        entry.requests += 1
        entry.body_bytes += body_bytes
        entry.statuses[status] = entry.statuses.get(status, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "total_requests": self.total_requests,
            "total_body_bytes": self.total_body_bytes,
            "routes": {
                key: {"requests": r.requests, "body_bytes": r.body_bytes, "statuses": dict(r.statuses)}
                for key, r in sorted(self.routes.items())
            },
        }
