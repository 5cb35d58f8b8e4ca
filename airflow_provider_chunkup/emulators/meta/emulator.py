"""The Meta (Graph video, Reels rupload) front door (work in progress: no routes yet)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..core.api import EmulatedApi
from .config import MetaEmulatorConfig


class MetaEmulator(EmulatedApi):
    """Meta (Graph video, Reels rupload)."""

    name = "meta"
    title = "Meta (Graph video, Reels rupload)"
    config_type = MetaEmulatorConfig

    def routes(self) -> list[BaseRoute]:
        return []

    def control_routes(self) -> list[BaseRoute]:
        return []

    def reset(self) -> None:
        pass

    @classmethod
    def chunk_targets(cls, config: MetaEmulatorConfig) -> list[str]:
        return []

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        return None
