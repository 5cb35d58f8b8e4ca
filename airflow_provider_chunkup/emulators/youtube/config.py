"""Settings of the YouTube Data API v3 emulator (the ``youtube`` section of the config)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import ApiConfig


@dataclass
class YouTubeEmulatorConfig(ApiConfig):
    """Behaviour of the YouTube Data API v3 front door."""
