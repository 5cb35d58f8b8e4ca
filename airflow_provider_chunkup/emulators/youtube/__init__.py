"""The YouTube Data API v3 front door of the emulator (``YouTubeEmulator``)."""

from .config import YouTubeEmulatorConfig
from .emulator import YouTubeEmulator

__all__ = ["YouTubeEmulator", "YouTubeEmulatorConfig"]
