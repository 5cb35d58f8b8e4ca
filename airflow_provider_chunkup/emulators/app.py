"""The ASGI app: every emulated API plus the ``/_emulator`` control endpoints.

``APIS`` is the one list of what the emulator serves: the app, the control endpoints, the stats,
fault injection and the ``chunkup-emulator`` flags reach each API only through the ``EmulatedApi``
interface (``core/api.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from .apivideo import ApiVideoEmulator
from .cloudflare_stream import CloudflareStreamEmulator
from .config import EmulatorConfig
from .content_range import ContentRangeEmulator
from .core.api import EmulatedApi, all_fault_kinds
from .core.context import EmulatorContext
from .core.control import PREFIX, control_routes
from .core.faults import FaultInjector
from .core.middleware import EmulatorMiddleware
from .core.storage import Storage
from .gcs import GcsEmulator
from .linkedin import LinkedInEmulator
from .meta import MetaEmulator
from .tiktok import TikTokEmulator
from .tus import TusEmulator
from .vimeo import VimeoEmulator
from .x import XEmulator
from .youtube import YouTubeEmulator

#: The emulated APIs, in the order of their routes, flags and config sections. A new one is a line
#: here and its section (named as the API) in ``EmulatorConfig``.
APIS: tuple[type[EmulatedApi], ...] = (
    XEmulator, ApiVideoEmulator, ContentRangeEmulator, TusEmulator, VimeoEmulator, CloudflareStreamEmulator,
    YouTubeEmulator, GcsEmulator, MetaEmulator, TikTokEmulator, LinkedInEmulator,
)


def build_app(
    config: EmulatorConfig | None = None,
    faults: Sequence[dict[str, Any]] = (),
    fault_seed: int | None = None,
) -> Starlette:
    """Build the emulator app around ``config`` (kept live: later mutations apply).

    Without ``config.data_dir`` the bytes go to a fresh temp directory (not removed: use
    ``EmulatorServer`` for a managed lifetime). ``faults`` are fault rules active from the start
    (and again after a reset), drawing from ``fault_seed`` (None: a random seed, shown by
    ``GET /_emulator/faults``). ``app.state.context`` exposes the internals, and each API is
    ``app.state.<its name>`` (``app.state.apivideo``).
    """
    config = config or EmulatorConfig()
    if config.data_dir is None:
        config.data_dir = Path(tempfile.mkdtemp(prefix="chunkup-emulator-"))
    injector = FaultInjector(fault_seed, kinds=all_fault_kinds(APIS))
    injector.add_all(faults)
    injector.mark_baseline()
    context = EmulatorContext(config=config, storage=Storage(Path(config.data_dir)), faults=injector)
    apis = [api(context) for api in APIS]
    routes = [
        *(route for api in apis for route in api.routes()),
        *control_routes(context, apis),
        *(route for api in apis for route in api.control_routes()),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(
        EmulatorMiddleware,
        stats=context.stats,
        faults=context.faults,
        control_prefix=PREFIX,
        apis=apis,
        routes=routes,
    )
    app.state.context = context
    for api in apis:
        setattr(app.state, api.name, api)
    return app
