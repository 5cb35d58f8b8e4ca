"""The ``Content-Range`` + ``upload_id`` emulator: SelfCommunity's Media API on django-chunked-upload
(``ContentRangeEmulator``)."""

from .config import ContentRangeEmulatorConfig
from .emulator import ContentRangeEmulator

__all__ = ["ContentRangeEmulator", "ContentRangeEmulatorConfig"]
