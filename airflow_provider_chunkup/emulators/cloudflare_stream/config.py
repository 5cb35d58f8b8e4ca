"""Settings of the Cloudflare Stream emulator (the ``cloudflare_stream`` section of the config)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import ApiConfig


@dataclass
class CloudflareStreamEmulatorConfig(ApiConfig):
    """Behaviour of the Cloudflare Stream front door."""
