"""The YouTube Data API v3 front door (work in progress: no routes yet)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..core.api import EmulatedApi
from .config import YouTubeEmulatorConfig


class YouTubeEmulator(EmulatedApi):
    """YouTube Data API v3."""

    name = "youtube"
    title = "YouTube Data API v3"
    config_type = YouTubeEmulatorConfig

    def routes(self) -> list[BaseRoute]:
        return []

    def control_routes(self) -> list[BaseRoute]:
        return []

    def reset(self) -> None:
        pass

    @classmethod
    def chunk_targets(cls, config: YouTubeEmulatorConfig) -> list[str]:
        return []

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        return None
