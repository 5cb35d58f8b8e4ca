"""The Cloudflare Stream front door of the emulator (``CloudflareStreamEmulator``)."""

from .config import CloudflareStreamEmulatorConfig
from .emulator import CloudflareStreamEmulator

__all__ = ["CloudflareStreamEmulator", "CloudflareStreamEmulatorConfig"]
