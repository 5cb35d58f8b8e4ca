"""The Vimeo (API 3.4) front door (work in progress: no routes yet)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..core.api import EmulatedApi
from .config import VimeoEmulatorConfig


class VimeoEmulator(EmulatedApi):
    """Vimeo (API 3.4)."""

    name = "vimeo"
    title = "Vimeo (API 3.4)"
    config_type = VimeoEmulatorConfig

    def routes(self) -> list[BaseRoute]:
        return []

    def control_routes(self) -> list[BaseRoute]:
        return []

    def reset(self) -> None:
        pass

    @classmethod
    def chunk_targets(cls, config: VimeoEmulatorConfig) -> list[str]:
        return []

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        return None
