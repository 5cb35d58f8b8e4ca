"""What every emulated API gets from the app: live config, storage, and shared counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import EmulatorConfig
from .faults import FaultInjector
from .ratelimit import RateLimiter
from .stats import RequestStats
from .storage import Storage


@dataclass
class EmulatorContext:
    config: EmulatorConfig
    storage: Storage
    stats: RequestStats = field(default_factory=RequestStats)
    faults: FaultInjector = field(default_factory=FaultInjector)
    limiter: RateLimiter = field(default_factory=RateLimiter)
