"""The Vimeo (API 3.4) front door of the emulator (``VimeoEmulator``)."""

from .config import VimeoEmulatorConfig
from .emulator import VimeoEmulator

__all__ = ["VimeoEmulator", "VimeoEmulatorConfig"]
