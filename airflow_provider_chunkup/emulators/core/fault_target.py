"""The string fault rules match: ``"METHOD /path?query"``, plus the command on X v1.1's one path.

X v1.1 serves INIT, APPEND, FINALIZE and STATUS on ``/1.1/media/upload.json`` with the command
in the query or, usually, in the form body. So that a rule can single out APPEND, the command is
appended to the target (``"POST /1.1/media/upload.json APPEND"``, as the stats key names it),
read from the query or from the start of the body.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

#: X v1.1's media upload path (``x/upload.py`` serves it).
X_V11_PATH = "/1.1/media/upload.json"
#: How far into a v1.1 body to look for the command (a client may put it after ``media_data``).
V11_SNIFF_BYTES = 64 * 1024

_MULTIPART_COMMAND = re.compile(rb'name="?command"?[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z]+)\r\n')
_FORM_COMMAND = re.compile(rb"(?:^|&)command=([A-Za-z]+)&")


def base_target(method: str, path: str, query: str) -> str:
    return f"{method} {path}" + (f"?{query}" if query else "")


def query_command(query: str) -> str | None:
    values = parse_qs(query).get("command")
    return values[0].upper() if values else None


def body_command(head: bytes, complete: bool) -> str | None:
    """The ``command`` field of a multipart or urlencoded body's first bytes, if they hold it.

    ``complete``: ``head`` is the whole body, so a urlencoded command may end it.
    """
    found = _MULTIPART_COMMAND.search(head) or _FORM_COMMAND.search(head + b"&" if complete else head)
    return found.group(1).decode("ascii").upper() if found else None


def with_command(target: str, command: str | None) -> str:
    return f"{target} {command}" if command else target
