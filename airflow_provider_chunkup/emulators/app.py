"""The ASGI app: every emulated API plus the ``/_emulator`` control endpoints."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from .apivideo.emulator import ApiVideoEmulator
from .content_range.emulator import ContentRangeEmulator
from .core.config import EmulatorConfig
from .core.context import EmulatorContext
from .core.control import PREFIX, control_routes
from .core.faults import FaultInjector
from .core.middleware import EmulatorMiddleware
from .core.storage import Storage
from .x.publish import XPublish
from .x.upload import XEmulator


def build_app(
    config: EmulatorConfig | None = None,
    faults: Sequence[dict[str, Any]] = (),
    fault_seed: int | None = None,
) -> Starlette:
    """Build the emulator app around ``config`` (kept live: later mutations apply).

    Without ``config.data_dir`` the bytes go to a fresh temp directory (not removed: use
    ``EmulatorServer`` for a managed lifetime). ``faults`` are fault rules active from the start
    (and again after a reset), drawing from ``fault_seed`` (None: a random seed, shown by
    ``GET /_emulator/faults``). ``app.state.context`` exposes the internals.
    """
    config = config or EmulatorConfig()
    if config.data_dir is None:
        config.data_dir = Path(tempfile.mkdtemp(prefix="chunkup-emulator-"))
    injector = FaultInjector(fault_seed)
    injector.add_all(faults)
    injector.mark_baseline()
    context = EmulatorContext(config=config, storage=Storage(Path(config.data_dir)), faults=injector)
    x = XEmulator(context)
    x_posts = XPublish(context, x.store)
    apivideo = ApiVideoEmulator(context)
    content_range = ContentRangeEmulator(context)
    # Sibling APIs (tus) add their routes here the same way.
    routes = [
        *x.routes(),
        *x_posts.routes(),
        *apivideo.routes(),
        *content_range.routes(),
        *control_routes(context, x),
        *x_posts.control_routes(),
        *apivideo.control_routes(),
        *content_range.control_routes(),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(
        EmulatorMiddleware,
        stats=context.stats,
        faults=context.faults,
        control_prefix=PREFIX,
        config=config,
        routes=routes,
    )
    app.state.context = context
    app.state.x = x
    app.state.x_posts = x_posts
    app.state.apivideo = apivideo
    app.state.content_range = content_range
    return app
