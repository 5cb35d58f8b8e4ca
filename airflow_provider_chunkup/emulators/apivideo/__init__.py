"""The api.video emulator: videos, chunked source uploads, upload tokens, encoding (``ApiVideoEmulator``)."""

from .config import ApiVideoEmulatorConfig
from .emulator import ApiVideoEmulator

__all__ = ["ApiVideoEmulator", "ApiVideoEmulatorConfig"]
