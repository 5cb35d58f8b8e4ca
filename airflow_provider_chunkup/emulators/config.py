"""The emulator's whole configuration: the process settings plus one section per emulated API.

Handlers read the config on every request, so mutating an attribute (from Python, or through
``PATCH /_emulator/config``) takes effect on the next request. Each section's fields, checks and
flags live with its API (``x/config.py``, ...); the machinery that patches, validates and restores
them is in ``core/config.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .apivideo.config import ApiVideoEmulatorConfig
from .cloudflare_stream.config import CloudflareStreamEmulatorConfig
from .content_range.config import ContentRangeEmulatorConfig
from .core.config import ProcessConfig
from .gcs.config import GcsEmulatorConfig
from .linkedin.config import LinkedInEmulatorConfig
from .meta.config import MetaEmulatorConfig
from .tiktok.config import TikTokEmulatorConfig
from .tus.config import TusEmulatorConfig
from .vimeo.config import VimeoEmulatorConfig
from .x.config import XEmulatorConfig
from .youtube.config import YouTubeEmulatorConfig


@dataclass
class EmulatorConfig(ProcessConfig):
    """Emulator process settings plus one section per emulated API.

    ``data_dir``, ``host`` and ``port`` are fixed once the server started (``EmulatorServer``
    fills in the real port and data directory); everything under ``x``, ``apivideo``,
    ``content_range`` and ``tus`` can change at any time. Each section's field is named as its API
    (``EmulatedApi.name``), in the order of ``app.APIS``.
    """

    x: XEmulatorConfig = field(default_factory=XEmulatorConfig)
    apivideo: ApiVideoEmulatorConfig = field(default_factory=ApiVideoEmulatorConfig)
    content_range: ContentRangeEmulatorConfig = field(default_factory=ContentRangeEmulatorConfig)
    tus: TusEmulatorConfig = field(default_factory=TusEmulatorConfig)
    vimeo: VimeoEmulatorConfig = field(default_factory=VimeoEmulatorConfig)
    cloudflare_stream: CloudflareStreamEmulatorConfig = field(default_factory=CloudflareStreamEmulatorConfig)
    youtube: YouTubeEmulatorConfig = field(default_factory=YouTubeEmulatorConfig)
    gcs: GcsEmulatorConfig = field(default_factory=GcsEmulatorConfig)
    meta: MetaEmulatorConfig = field(default_factory=MetaEmulatorConfig)
    tiktok: TikTokEmulatorConfig = field(default_factory=TikTokEmulatorConfig)
    linkedin: LinkedInEmulatorConfig = field(default_factory=LinkedInEmulatorConfig)
