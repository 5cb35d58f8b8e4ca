"""The Google Cloud Storage (JSON API uploads) front door of the emulator (``GcsEmulator``)."""

from .config import GcsEmulatorConfig
from .emulator import GcsEmulator

__all__ = ["GcsEmulator", "GcsEmulatorConfig"]
