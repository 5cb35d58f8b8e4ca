"""The string fault rules match: ``"METHOD /path?query"``, plus the operation a request names inside it.

Where one path serves several operations named in the request itself (a ``command`` field, say),
the API that serves it names the operation (``EmulatedApi.request_command``), read from the query
or the start of the body, and it is appended to the target (``"POST /path OPERATION"``, as the stats
key names it), so that a rule can single it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.types import Scope

from .stats import COMMAND_KEY

if TYPE_CHECKING:
    from .api import EmulatedApi, RequestHead

#: An optional query string, for the regexes of ``EmulatedApi.chunk_targets``.
QUERY = r"(?:\?\S*)?"


def base_target(method: str, path: str, query: str) -> str:
    return f"{method} {path}" + (f"?{query}" if query else "")


def with_command(target: str, command: str | None) -> str:
    return f"{target} {command}" if command else target


async def fault_target(scope: Scope, body: RequestHead, apis: Sequence[EmulatedApi]) -> str:
    """The target of this request; a named operation also keys its stats (after the route's template), whether or
    not the handler runs (a fault, a client gone mid-body)."""
    method, path = scope["method"], scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    target = base_target(method, path, query)
    for api in apis:
        command = await api.request_command(method, path, query, body)
        if command:
            scope[COMMAND_KEY] = command
            return with_command(target, command)
    return target
