"""What every emulated API gets from the app: live config, storage, and the shared counters."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .config import ProcessConfig, restore_config
from .faults import FaultInjector
from .ratelimit import RateLimiter
from .stats import RequestStats
from .storage import Storage


@dataclass
class EmulatorContext:
    #: The live config: the process settings and every API's section (``config.<api name>``).
    config: ProcessConfig
    storage: Storage
    stats: RequestStats = field(default_factory=RequestStats)
    faults: FaultInjector = field(default_factory=FaultInjector)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    #: The config as it was when the app was built, for ``reset()``.
    baseline: ProcessConfig | None = None

    def __post_init__(self) -> None:
        if self.baseline is None:
            self.baseline = copy.deepcopy(self.config)

    def reset(self) -> None:
        """Back to the startup config and fault rules, with no stats or rate-limit windows.

        What the APIs stored is theirs to forget (``EmulatedApi.reset``).
        """
        assert self.baseline is not None
        restore_config(self.config, self.baseline)
        self.stats.reset()
        self.limiter.reset()
        self.faults.reset()
