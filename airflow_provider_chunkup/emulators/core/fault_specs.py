"""Fault rules as people write them: JSON (a rule, a list, ``{preset, seed, rules}``), files, presets.

``chunks:RATE`` faults about ``RATE`` of the chunk-carrying requests of every emulated API (the
targets each names in ``EmulatedApi.chunk_targets``, under the config of the moment) with the mix in
``CHUNK_FAULT_MIX``. Every function here takes those ``chunk_targets``: regexes, each over a whole target.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .faults import FaultInjector

PRESET_FORMS = "chunks:RATE (0 < RATE <= 1, e.g. chunks:0.1)"
ENVELOPE_FIELDS = frozenset({"preset", "seed", "rules"})
#: What ``chunks:RATE`` injects: share of the faults, rule fields. A 429 burst covers ``burst``
#: requests, so its rule fires ``burst`` times less often to keep its share.
CHUNK_FAULT_MIX: tuple[tuple[float, dict[str, Any]], ...] = (
    (0.30, {"action": "error", "status": [500, 502, 503]}),
    (0.15, {"action": "rate_limit", "burst": 2, "retry_after_secs": 1}),
    (0.20, {"action": "drop", "when": "mid_body"}),
    (0.15, {"action": "error", "status": [500, 502, 503], "when": "after"}),
    (0.20, {"action": "delay", "delay_secs": 0.25}),
)


@dataclass
class FaultPlan:
    """Rules to add and, when one was given, the seed to use."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None


def chunk_match(chunk_targets: Sequence[str]) -> str:
    """One regex over fault targets matching every request that carries upload bytes."""
    return rf"^(?:{'|'.join(chunk_targets)})$"


def chunks_preset(rate: float, chunk_targets: Sequence[str]) -> list[dict[str, Any]]:
    """Rules that together fault about ``rate`` of the chunk requests, each action with its share.

    Rules are tried in order and a 429 burst covers ``burst`` requests, so each rule's own rate
    is derived: a request that rolls the dice is faulted with probability ``fire``, by rule ``i``
    with ``fire * firing_share_i``; a later rule only sees what earlier ones left.
    """
    if not 0 < rate <= 1:
        raise ValueError(f"fault preset rate {rate} is out of range: expected {PRESET_FORMS}")
    per_fire = [share / fields.get("burst", 1) for share, fields in CHUNK_FAULT_MIX]
    mean_burst = 1 / sum(per_fire)  # requests faulted per firing
    fire = rate / (mean_burst - rate * (mean_burst - 1))
    match = chunk_match(chunk_targets)
    rules, taken = [], 0.0
    for weight, (_, fields) in zip(per_fire, CHUNK_FAULT_MIX, strict=True):
        absolute = fire * weight * mean_burst
        rule_rate = min(absolute / (1 - taken), 1.0) if taken < 1 else 1.0
        taken += absolute
        rules.append({"match": match, "times": 0, "rate": float(f"{rule_rate:.6g}"), **copy.deepcopy(fields)})
    return rules


def preset(name: str, chunk_targets: Sequence[str]) -> list[dict[str, Any]]:
    """The rules of a named preset; ``ValueError`` for an unknown one."""
    kind, _, arg = name.strip().partition(":")
    if kind != "chunks":
        raise ValueError(f"unknown fault preset {name!r}: expected {PRESET_FORMS}")
    try:
        rate = float(arg)
    except ValueError:
        raise ValueError(f"fault preset {name!r} needs a rate: {PRESET_FORMS}") from None
    if not math.isfinite(rate) or not 0 < rate <= 1:
        raise ValueError(f"fault preset {name!r}: the rate must be 0 < RATE <= 1")
    return chunks_preset(rate, chunk_targets)


def plan_from_json(value: Any, chunk_targets: Sequence[str]) -> FaultPlan:
    """A rule (an object with ``match``), a list of rules, or ``{"preset", "seed", "rules"}``."""
    if isinstance(value, list):
        return FaultPlan(rules=list(value))
    if not isinstance(value, dict):
        raise ValueError("faults must be a rule object, a list of rules, or {preset, seed, rules}")
    if "match" in value:
        return FaultPlan(rules=[value])
    unknown = set(value) - ENVELOPE_FIELDS
    if unknown or not value:
        raise ValueError(
            "expected a rule (with match), a list of rules, or an object of preset, seed and rules; "
            f"got {', '.join(sorted(unknown)) or 'an empty object'}"
        )
    plan = FaultPlan(seed=value.get("seed"))
    if plan.seed is not None and (isinstance(plan.seed, bool) or not isinstance(plan.seed, int)):
        raise ValueError("seed must be an integer")
    if "preset" in value:
        if not isinstance(value["preset"], str):
            raise ValueError(f"preset must be a string: {PRESET_FORMS}")
        plan.rules += preset(value["preset"], chunk_targets)
    if "rules" in value:
        if not isinstance(value["rules"], list):
            raise ValueError("rules must be a list of rule objects")
        plan.rules += value["rules"]
    return plan


def parse_fault_spec(spec: str, chunk_targets: Sequence[str]) -> FaultPlan:
    """``--faults`` SPEC: JSON, ``@file.json``, or a preset name; every rule is validated."""
    text, where = spec, "--faults"
    if spec.startswith("@"):
        path = Path(spec[1:])
        try:
            text, where = path.read_text(), str(path)
        except OSError as exc:
            raise ValueError(f"cannot read fault file {path}: {exc.strerror or exc}") from None
    if text.lstrip().startswith(("[", "{")) or where != "--faults":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where} is not valid JSON: {exc}") from None
        plan = plan_from_json(value, chunk_targets)
    else:
        plan = FaultPlan(rules=preset(spec, chunk_targets))
    FaultInjector(seed=0).add_all(plan.rules)  # validate now, not once the server runs
    return plan
