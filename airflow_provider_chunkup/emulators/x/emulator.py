"""The X emulator as the core sees it: media upload (v2, v1.1) and what follows it, on one media store."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from ..core.api import EmulatedApi, RequestHead
from ..core.config import ApiConfig
from ..core.context import EmulatorContext
from . import control, faults
from .config import XEmulatorConfig
from .media import XMediaStore
from .posts import XPostStore
from .publish import XPublish
from .upload import XUpload


class XEmulator(EmulatedApi):
    """X media upload v2 and v1.1, posts, the user, alt text and subtitles, plus their inspection endpoints.

    ``media`` and ``posts`` are the stores (uploads and their media; posts); ``upload`` and
    ``publish`` the routes on them.
    """

    name = "x"
    title = "X v2 and v1.1"
    config_type = XEmulatorConfig
    fault_kinds = ("processing_failure",)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.media = XMediaStore(context.storage, lambda: self.config, context.faults.roll)
        self.posts = XPostStore(self.media)
        self.upload = XUpload(context, self.media)
        self.publish = XPublish(context, self.posts)

    @property
    def config(self) -> XEmulatorConfig:
        return self.context.config.x

    def routes(self) -> list[BaseRoute]:
        return [*self.upload.routes(), *self.publish.routes()]

    def control_routes(self) -> list[BaseRoute]:
        return control.control_routes(self.media, self.posts)

    def reset(self) -> None:
        self.media.forget_all()
        self.posts.forget_all()

    def stats(self) -> dict[str, int]:
        return {"x_posts": len(self.posts.posts)}

    @classmethod
    def chunk_targets(cls, config: ApiConfig) -> list[str]:
        return list(faults.CHUNK_TARGETS)

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        return faults.rate_limited(self.config, method, path, retry_after_secs)

    async def request_command(self, method: str, path: str, query: str, body: RequestHead) -> str | None:
        return await faults.v11_command(method, path, query, body)
