"""The LinkedIn Videos API front door of the emulator (``LinkedInEmulator``)."""

from .config import LinkedInEmulatorConfig
from .emulator import LinkedInEmulator

__all__ = ["LinkedInEmulator", "LinkedInEmulatorConfig"]
