"""Fault injection: make chosen requests fail the way networks and servers do.

A rule matches requests whose ``"METHOD /path?query"`` contains its ``match`` regex and applies
to the next ``times`` of them (``times: 0`` means every one until cleared). Actions:

- ``error``: answer ``status`` (default 503) with a small problem body.
- ``drop``: send response headers, then cut the connection before the body (the client sees a
  protocol error, as with a dropped connection).
- ``delay``: wait ``delay_secs``, then answer normally.

With ``"when": "after"`` the real handler runs first (the segment is stored, the upload is
finalized ...) and only its response is replaced: the case where a client must retry a request
that actually succeeded.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass, field
from typing import Any

ACTIONS = ("error", "drop", "delay")
WHEN = ("before", "after")


@dataclass
class FaultRule:
    match: str
    action: str = "error"
    status: int = 503
    times: int = 1
    delay_secs: float = 0.0
    when: str = "before"
    id: int = 0
    hits: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def matches(self, target: str) -> bool:
        if self._pattern is None:
            self._pattern = re.compile(self.match)
        return self._pattern.search(target) is not None

    @property
    def exhausted(self) -> bool:
        return self.times > 0 and self.hits >= self.times

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_pattern")
        return data


class FaultInjector:
    """The active fault rules, first match wins."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Validate a rule from JSON and activate it."""
        allowed = {"match", "action", "status", "times", "delay_secs", "when"}
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if not isinstance(spec.get("match"), str):
            raise ValueError("match (a regex over 'METHOD /path?query') is required")
        rule = FaultRule(**spec)
        if rule.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        if rule.when not in WHEN:
            raise ValueError(f"when must be one of {', '.join(WHEN)}")
        if not isinstance(rule.status, int) or not 100 <= rule.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if not isinstance(rule.times, int) or rule.times < 0:
            raise ValueError("times must be a non-negative integer (0 = unlimited)")
        if not isinstance(rule.delay_secs, (int, float)) or rule.delay_secs < 0:
            raise ValueError("delay_secs must be a non-negative number")
        try:
            re.compile(rule.match)
        except re.error as exc:
            raise ValueError(f"match is not a valid regex: {exc}") from exc
        rule.id = next(self._ids)
        self.rules.append(rule)
        return rule

    def take(self, target: str) -> FaultRule | None:
        """The rule to apply to this request, counting the hit."""
        for rule in self.rules:
            if not rule.exhausted and rule.matches(target):
                rule.hits += 1
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        return [rule.to_dict() for rule in self.rules]
