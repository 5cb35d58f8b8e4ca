"""Settings of the TikTok Content Posting API emulator (the ``tiktok`` section of the config)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import ApiConfig


@dataclass
class TikTokEmulatorConfig(ApiConfig):
    """Behaviour of the TikTok Content Posting API front door."""
