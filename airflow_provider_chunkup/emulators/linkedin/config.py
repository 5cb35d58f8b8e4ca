"""Settings of the LinkedIn Videos API emulator (the ``linkedin`` section of the config)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import ApiConfig


@dataclass
class LinkedInEmulatorConfig(ApiConfig):
    """Behaviour of the LinkedIn Videos API front door."""
