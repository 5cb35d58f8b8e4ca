"""What every emulated API gets from the app: live config, storage, and shared counters."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from .config import EmulatorConfig, restore_config
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
    #: Each API registers how to forget its uploads.
    resetters: list[Callable[[], None]] = field(default_factory=list)
    #: Counts an API adds to ``GET /_emulator/stats`` (``x_posts``: posts created), by name.
    counters: dict[str, Callable[[], int]] = field(default_factory=dict)
    #: The config as it was when the app was built, for ``reset()``.
    baseline: EmulatorConfig | None = None

    def __post_init__(self) -> None:
        if self.baseline is None:
            self.baseline = copy.deepcopy(self.config)

    def reset(self) -> None:
        """Back to a fresh start: startup config and fault rules, no uploads, no counters."""
        assert self.baseline is not None
        restore_config(self.config, self.baseline)
        self.stats.reset()
        self.limiter.reset()
        self.faults.reset()
        for reset_api in self.resetters:
            reset_api()
