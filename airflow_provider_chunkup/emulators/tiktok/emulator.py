"""The TikTok Content Posting API front door (work in progress: no routes yet)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..core.api import EmulatedApi
from .config import TikTokEmulatorConfig


class TikTokEmulator(EmulatedApi):
    """TikTok Content Posting API."""

    name = "tiktok"
    title = "TikTok Content Posting API"
    config_type = TikTokEmulatorConfig

    def routes(self) -> list[BaseRoute]:
        return []

    def control_routes(self) -> list[BaseRoute]:
        return []

    def reset(self) -> None:
        pass

    @classmethod
    def chunk_targets(cls, config: TikTokEmulatorConfig) -> list[str]:
        return []

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        return None
