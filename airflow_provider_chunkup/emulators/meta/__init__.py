"""The Meta (Graph video, Reels rupload) front door of the emulator (``MetaEmulator``)."""

from .config import MetaEmulatorConfig
from .emulator import MetaEmulator

__all__ = ["MetaEmulator", "MetaEmulatorConfig"]
