"""The Google Cloud Storage (JSON API uploads) front door (work in progress: no routes yet)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..core.api import EmulatedApi
from .config import GcsEmulatorConfig


class GcsEmulator(EmulatedApi):
    """Google Cloud Storage (JSON API uploads)."""

    name = "gcs"
    title = "Google Cloud Storage (JSON API uploads)"
    config_type = GcsEmulatorConfig

    def routes(self) -> list[BaseRoute]:
        return []

    def control_routes(self) -> list[BaseRoute]:
        return []

    def reset(self) -> None:
        pass

    @classmethod
    def chunk_targets(cls, config: GcsEmulatorConfig) -> list[str]:
        return []

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        return None
