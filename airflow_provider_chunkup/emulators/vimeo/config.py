"""Settings of the Vimeo (API 3.4) emulator (the ``vimeo`` section of the config)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import ApiConfig


@dataclass
class VimeoEmulatorConfig(ApiConfig):
    """Behaviour of the Vimeo (API 3.4) front door."""
