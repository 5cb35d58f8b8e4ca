"""Fault injection: make chosen requests fail the way networks and servers do, reproducibly.

A rule matches requests whose target contains its ``match`` regex. The target is
``"METHOD /path?query"``, plus the operation a request names where one path serves several
(``"POST /path OPERATION"``, see ``fault_target``). Of the matching requests, a fraction ``rate``
(default 1: every one) is faulted, until ``times`` faults were applied (``times: 0``: no end).
Rules are tried in order and the first that fires wins. Actions:

- ``error``: answer ``status`` (default 503; a list such as ``[500, 502, 503]`` picks one per
  fault) with a small problem body. Status 429 answers as ``rate_limit`` does.
- ``rate_limit``: 429 with the headers and body of the API the path belongs to, announcing a
  retry in ``retry_after_secs`` (default 1). Each time it fires, the next ``burst - 1`` matching
  requests get 429 too, before any other rule.
- ``drop``: close the connection without an answer: once the body was read (``when: before``),
  once about half of it arrived while the client still sends (``when: mid_body``), or after the
  handler ran (``when: after``). Before and mid-body, the handler never runs: nothing is stored.
- ``delay``: wait ``delay_secs`` (plus ``delay_secs_per_mib`` per MiB of request body), then answer normally.

With ``"when": "after"`` the real handler runs first (the segment is stored, the upload is
finalized ...) and only its response is replaced: the case where a client must retry a request
that actually succeeded.

Every draw (which request is faulted, which status, and the failures an API decides outside the
request path with ``roll``, such as processing that fails at a configured rate) comes from one
``random.Random`` seeded with ``seed``: the same seed and the same sequence of requests give the
same faults. Clearing the rules restarts the sequence; ``reset()`` also restores the startup rules.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

ACTIONS = ("error", "rate_limit", "drop", "delay")
WHEN = ("before", "mid_body", "after")
#: Fields a rule may be given (the others are counters and ids).
RULE_FIELDS = frozenset(
    {"match", "action", "status", "times", "rate", "burst", "retry_after_secs", "delay_secs", "delay_secs_per_mib",
     "when"}
)


@dataclass
class FaultRule:
    match: str
    action: str = "error"
    status: int | list[int] = 503
    times: int = 1
    rate: float = 1.0
    burst: int = 1
    retry_after_secs: int = 1
    delay_secs: float = 0.0
    #: ``delay``: more wait per MiB of request body (its Content-Length): a link's bandwidth, per connection.
    delay_secs_per_mib: float = 0.0
    when: str = "before"
    id: int = 0
    #: Requests that reached this rule and matched it; ``hits`` of them were faulted.
    matched: int = 0
    hits: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _burst_left: int = field(default=0, repr=False, compare=False)

    @classmethod
    def from_spec(cls, spec: Any) -> FaultRule:
        """Validate a rule given as JSON; ``ValueError`` says what is wrong."""
        if not isinstance(spec, dict):
            raise ValueError("a fault rule must be a JSON object")
        unknown = set(spec) - RULE_FIELDS
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if not isinstance(spec.get("match"), str):
            raise ValueError("match (a regex over 'METHOD /path?query') is required")
        rule = cls(**spec)
        try:
            rule._pattern = re.compile(rule.match)
        except re.error as exc:
            raise ValueError(f"match is not a valid regex: {exc}") from exc
        rule._validate()
        return rule

    def _validate(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        if self.when not in WHEN:
            raise ValueError(f"when must be one of {', '.join(WHEN)}")
        if self.when == "mid_body" and self.action != "drop":
            raise ValueError("when 'mid_body' only goes with action 'drop'")
        statuses = self.status if isinstance(self.status, list) else [self.status]
        if not statuses or not all(_is_int(s) and 100 <= s <= 599 for s in statuses):
            raise ValueError("status must be an HTTP status code or a non-empty list of them")
        if not _is_int(self.times) or self.times < 0:
            raise ValueError("times must be a non-negative integer (0 = unlimited)")
        if not _is_number(self.rate) or not 0 < self.rate <= 1:
            raise ValueError("rate must be a number with 0 < rate <= 1")
        if not _is_int(self.burst) or self.burst < 1:
            raise ValueError("burst must be a positive integer")
        if 0 < self.times < self.burst:
            raise ValueError("burst must not exceed times (every 429 of a burst counts as a fault)")
        if not _is_int(self.retry_after_secs) or self.retry_after_secs < 0:
            raise ValueError("retry_after_secs must be a non-negative integer")
        if not _is_number(self.delay_secs) or self.delay_secs < 0:
            raise ValueError("delay_secs must be a non-negative number")
        if not _is_number(self.delay_secs_per_mib) or self.delay_secs_per_mib < 0:
            raise ValueError("delay_secs_per_mib must be a non-negative number")

    def delay_for(self, body_bytes: int | None) -> float:
        """``delay``'s wait for a request of ``body_bytes``: the fixed part plus the per-MiB part."""
        return self.delay_secs + self.delay_secs_per_mib * (body_bytes or 0) / (1024 * 1024)

    def matches(self, target: str) -> bool:
        if self._pattern is None:
            self._pattern = re.compile(self.match)
        return self._pattern.search(target) is not None

    @property
    def exhausted(self) -> bool:
        return self.times > 0 and self.hits >= self.times

    def spec(self) -> dict[str, Any]:
        """The rule as it was given (no counters), to add it again."""
        spec = {name: getattr(self, name) for name in sorted(RULE_FIELDS)}
        spec["status"] = list(self.status) if isinstance(self.status, list) else self.status
        return spec

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_pattern")
        data.pop("_burst_left")
        return data


class FaultInjector:
    """The active fault rules, the seeded random sequence they draw from, and what they injected.

    ``kinds``: faults decided outside the request path (``roll``), counted with the actions from zero.
    """

    def __init__(self, seed: int | None = None, kinds: Iterable[str] = ()) -> None:
        self.kinds = tuple(kinds)
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self.seed = 0
        self.reseed(seed)
        self.injected: dict[str, int] = {}
        self.reset_counts()
        self._baseline: tuple[list[dict[str, Any]], int] = ([], self.seed)

    # -- configuration --------------------------------------------------------------------------

    def reseed(self, seed: int | None = None) -> None:
        """Restart the random sequence from ``seed`` (None: a fresh random seed)."""
        if seed is None:
            seed = random.SystemRandom().randrange(2**32)
        if not _is_int(seed):
            raise ValueError("seed must be an integer")
        self.seed = seed
        self._random = random.Random(seed)

    def add(self, spec: dict[str, Any]) -> FaultRule:
        """Validate a rule from JSON and activate it."""
        return self.add_all([spec])[0]

    def add_all(self, specs: Iterable[Any]) -> list[FaultRule]:
        """Validate every rule, then activate them all (or none: ``ValueError`` names the bad one)."""
        specs = list(specs)
        rules = []
        for number, spec in enumerate(specs, start=1):
            try:
                rules.append(FaultRule.from_spec(spec))
            except ValueError as exc:
                raise ValueError(f"rule {number}: {exc}" if len(specs) > 1 else str(exc)) from None
        for rule in rules:
            rule.id = next(self._ids)
            self.rules.append(rule)
        return rules

    def mark_baseline(self) -> None:
        """Remember the current rules and seed as what ``reset()`` goes back to."""
        self._baseline = ([rule.spec() for rule in self.rules], self.seed)

    def clear(self) -> None:
        """No rules, no counts, and the random sequence restarted from the seed."""
        self.rules.clear()
        self._ids = itertools.count(1)
        self.reset_counts()
        self.reseed(self.seed)

    def reset(self) -> None:
        """The startup rules (counters at zero) and the startup seed's sequence from its start."""
        specs, seed = self._baseline
        self.rules.clear()
        self._ids = itertools.count(1)
        self.reset_counts()
        self.reseed(seed)
        self.add_all(specs)

    def reset_counts(self) -> None:
        self.injected = dict.fromkeys((*ACTIONS, *self.kinds), 0)

    # -- decisions ------------------------------------------------------------------------------

    def take(self, target: str) -> FaultRule | None:
        """The rule to apply to this request, if any; counts the fault."""
        for rule in self.rules:
            if rule._burst_left > 0 and not rule.exhausted and rule.matches(target):
                rule._burst_left -= 1
                rule.matched += 1
                return self._fire(rule)
        for rule in self.rules:
            if rule.exhausted or not rule.matches(target):
                continue
            rule.matched += 1
            if rule.rate >= 1 or self._random.random() < rule.rate:
                if rule.action == "rate_limit":
                    rule._burst_left = rule.burst - 1
                return self._fire(rule)
        return None

    def _fire(self, rule: FaultRule) -> FaultRule:
        rule.hits += 1
        self._count(rule.action)
        return rule

    def pick_status(self, rule: FaultRule) -> int:
        """The status of this fault: the rule's, or a seeded pick from its list."""
        if isinstance(rule.status, int):
            return rule.status
        return rule.status[0] if len(rule.status) == 1 else self._random.choice(rule.status)

    def roll(self, rate: float, kind: str) -> bool:
        """Whether a fault of ``kind`` happens at probability ``rate`` (counted if it does)."""
        if rate <= 0:
            return False
        if rate < 1 and self._random.random() >= rate:
            return False
        self._count(kind)
        return True

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    # -- views ----------------------------------------------------------------------------------

    @property
    def injected_total(self) -> int:
        return sum(self.injected.values())

    def snapshot(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rules": [rule.to_dict() for rule in self.rules],
            "injected": {**self.injected, "total": self.injected_total},
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
