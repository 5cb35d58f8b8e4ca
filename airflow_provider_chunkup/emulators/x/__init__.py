"""The X emulator: media upload v2 and v1.1, posts, alt text and subtitles (``XEmulator``)."""

from .config import XEmulatorConfig
from .emulator import XEmulator

__all__ = ["XEmulator", "XEmulatorConfig"]
