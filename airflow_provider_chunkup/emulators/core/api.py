"""The interface between the shared core and one emulated API: ``EmulatedApi``.

The core (app, control endpoints, stats, config patches, fault injection) knows an API only through
this class and its config section (``ApiConfig``). A new API is a package of its own
(``emulators/<name>/``) that implements both, plus two lines outside it: its class in ``app.APIS`` and
its section in ``config.EmulatorConfig``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar, Protocol

from starlette.responses import Response
from starlette.routing import BaseRoute

from .config import ApiConfig, ProcessConfig
from .context import EmulatorContext


class RequestHead(Protocol):
    """A request body as ``EmulatedApi.request_command`` may look into it, before any handler runs."""

    #: Whether the whole body has arrived (``peek`` returned all of it).
    complete: bool

    async def peek(self, limit: int, enough: Callable[[bytes, bool], object]) -> bytes:
        """The body's first bytes: read until ``enough(head, complete)`` holds, the body ends, or ``limit``
        bytes; what was read is replayed to the handler."""
        ...


class EmulatedApi(ABC):
    """One emulated upload API, as the shared core sees it.

    An implementation provides:

    - ``name``: its config section's field name in ``EmulatorConfig`` (``"x"``), also its name on
      ``app.state`` (``app.state.x``: the instance) and the prefix of its rate-limit buckets.
    - ``title``: how ``chunkup-emulator --help`` names it (``"api.video"``).
    - ``config_type``: its section, an ``ApiConfig`` dataclass (every field with a default) that
      validates itself (``validate``) and may bring flags (``add_arguments``, ``apply_arguments``).
    - ``fault_kinds``: the faults it draws outside the request path with ``context.faults.roll(rate,
      kind)`` (processing that fails), counted in ``GET /_emulator/faults`` beside the actions.
    - ``__init__(context)``: builds its stores from the ``EmulatorContext`` (live config, storage,
      rate limiter, fault injector); call ``super().__init__(context)``.
    - ``routes()``: the API's own paths, as the platform serves them.
    - ``control_routes()``: its inspection and steering endpoints under ``/_emulator/<its own segment>/``
      (``control.PREFIX``; no auth; each handler wrapped in ``control.guarded`` with what its own
      errors mean, so errors answer as ``{"error": ...}``).
    - ``reset()``: forget every upload, token and object it holds (``POST /_emulator/reset``; the
      core restores the config, rules, stats and rate-limit windows itself).
    - ``stats()`` (optional): counts it adds to ``GET /_emulator/stats`` (``{"x_posts": 3}``).
    - ``chunk_targets(config)``: the fault targets of its requests that carry upload bytes, as
      regexes over a whole target (``rf"POST /videos/[^/?]+/source{QUERY}"``, ``QUERY`` from
      ``fault_target``: an optional query string), which the ``chunks:RATE`` preset faults.
    - ``rate_limited(method, path, retry_after_secs)``: an injected 429 as this API sends one for
      its own paths (its headers and body), None for a path it does not serve.
    - ``request_command(...)`` (optional): for a path that serves several operations named inside
      the request (X v1.1's ``command``), the operation, appended to the fault target and stats key.

    Handlers run on the server's event loop (state needs no locks; blocking file work goes to a
    thread). Time comes from ``time.time()`` through ``import time``, so the tests' clock reaches it.
    """

    #: The config section's field name in ``EmulatorConfig``; also ``app.state.<name>``.
    name: ClassVar[str]
    #: The API as ``chunkup-emulator --help`` lists it.
    title: ClassVar[str]
    #: The config section's class.
    config_type: ClassVar[type[ApiConfig]]
    #: Fault kinds drawn with ``FaultInjector.roll`` outside the request path.
    fault_kinds: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: EmulatorContext) -> None:
        self.context = context

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The API's own routes."""

    @abstractmethod
    def control_routes(self) -> list[BaseRoute]:
        """Inspection and steering routes under ``/_emulator/``."""

    @abstractmethod
    def reset(self) -> None:
        """Forget everything stored: uploads, media, tokens."""

    def stats(self) -> dict[str, int]:
        """Counts added to ``GET /_emulator/stats``, by name."""
        return {}

    @classmethod
    @abstractmethod
    def chunk_targets(cls, config: ApiConfig) -> list[str]:
        """Regexes, each over a whole fault target, of the requests that carry upload bytes under ``config``."""

    @abstractmethod
    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """A 429 as the API answers an exhausted window on ``path`` (None: not one of its paths)."""

    async def request_command(self, method: str, path: str, query: str, body: RequestHead) -> str | None:
        """The operation a request names inside it, on a path serving several; None elsewhere."""
        return None


def all_chunk_targets(apis: Iterable[EmulatedApi | type[EmulatedApi]], config: ProcessConfig) -> list[str]:
    """Every API's chunk targets under ``config`` (its live values: a configured path moves its target)."""
    return [target for api in apis for target in api.chunk_targets(getattr(config, api.name))]


def all_fault_kinds(apis: Sequence[EmulatedApi | type[EmulatedApi]]) -> list[str]:
    """Every API's fault kinds, in order."""
    return [kind for api in apis for kind in api.fault_kinds]
