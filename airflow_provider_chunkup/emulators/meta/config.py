"""Settings of the Meta (Graph video, Reels rupload) emulator (the ``meta`` section of the config)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import ApiConfig


@dataclass
class MetaEmulatorConfig(ApiConfig):
    """Behaviour of the Meta (Graph video, Reels rupload) front door."""
