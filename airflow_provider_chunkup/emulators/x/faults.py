"""What X adds to fault injection: its chunk targets, v1.1's command in the target, and a 429 as X sends it.

X v1.1 serves INIT, APPEND, FINALIZE and STATUS on ``/1.1/media/upload.json`` with the command
in the query or, usually, in the form body. So that a rule can single out APPEND, the command is
appended to the target (``"POST /1.1/media/upload.json APPEND"``, as the stats key names it),
read from the query or from the start of the body.
"""

from __future__ import annotations

import math
import re
import time
from urllib.parse import parse_qs

from starlette.responses import Response

from ..core.api import RequestHead
from ..core.fault_target import QUERY
from .config import XEmulatorConfig
from .endpoint import rate_limit_headers, v11_errors
from .upload import V11_PATH

#: Paths X answers (v2 and v1.1): an injected 429 there is X's.
PATH_PREFIXES = ("/2/", "/1.1/")
#: The requests that carry upload bytes: v2 append and v1.1 APPEND.
CHUNK_TARGETS = (rf"POST /2/media/upload/[^/?]+/append{QUERY}", rf"POST {re.escape(V11_PATH)}{QUERY} APPEND")
#: How far into a v1.1 body to look for the command (a client may put it after ``media_data``).
V11_SNIFF_BYTES = 64 * 1024

_MULTIPART_COMMAND = re.compile(rb'name="?command"?[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z]+)\r\n')
_FORM_COMMAND = re.compile(rb"(?:^|&)command=([A-Za-z]+)&")


async def v11_command(method: str, path: str, query: str, body: RequestHead) -> str | None:
    """The command of a request on v1.1's upload path, from its query or its body's first bytes."""
    if path != V11_PATH:
        return None
    command = query_command(query)
    if command is None and method == "POST":
        head = await body.peek(V11_SNIFF_BYTES, body_command)
        command = body_command(head, body.complete)
    return command


def query_command(query: str) -> str | None:
    values = parse_qs(query).get("command")
    return values[0].upper() if values else None


def body_command(head: bytes, complete: bool) -> str | None:
    """The ``command`` field of a multipart or urlencoded body's first bytes, if they hold it.

    ``complete``: ``head`` is the whole body, so a urlencoded command may end it.
    """
    found = _MULTIPART_COMMAND.search(head) or _FORM_COMMAND.search(head + b"&" if complete else head)
    return found.group(1).decode("ascii").upper() if found else None


def rate_limited(config: XEmulatorConfig, method: str, path: str, retry_after_secs: int) -> Response | None:
    """X's 429 (as an exhausted window answers), with the upload or status bucket's limit; None off X's paths."""
    if not path.startswith(PATH_PREFIXES):
        return None
    limit = config.status_rate_limit if method == "GET" else config.rate_limit
    response = v11_errors(429, 88, "Rate limit exceeded")
    response.headers.update(rate_limit_headers(limit, 0, math.ceil(time.time() + retry_after_secs)))
    return response
