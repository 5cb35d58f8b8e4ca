"""The TikTok Content Posting API front door of the emulator (``TikTokEmulator``)."""

from .config import TikTokEmulatorConfig
from .emulator import TikTokEmulator

__all__ = ["TikTokEmulator", "TikTokEmulatorConfig"]
