"""The LinkedIn Videos API front door (work in progress: no routes yet)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..core.api import EmulatedApi
from .config import LinkedInEmulatorConfig


class LinkedInEmulator(EmulatedApi):
    """LinkedIn Videos API."""

    name = "linkedin"
    title = "LinkedIn Videos API"
    config_type = LinkedInEmulatorConfig

    def routes(self) -> list[BaseRoute]:
        return []

    def control_routes(self) -> list[BaseRoute]:
        return []

    def reset(self) -> None:
        pass

    @classmethod
    def chunk_targets(cls, config: LinkedInEmulatorConfig) -> list[str]:
        return []

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        return None
