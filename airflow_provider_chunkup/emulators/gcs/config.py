"""Settings of the Google Cloud Storage (JSON API uploads) emulator (the ``gcs`` section of the config)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import ApiConfig


@dataclass
class GcsEmulatorConfig(ApiConfig):
    """Behaviour of the Google Cloud Storage (JSON API uploads) front door."""
