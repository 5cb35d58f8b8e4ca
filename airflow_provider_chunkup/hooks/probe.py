"""The Test button for APIs whose only harmless authenticated request is reading something that does not exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import AuthenticationFailed, ChunkupError, RemoteRejected, RetryExhausted
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import cannot_reach, scrub
from airflow_provider_chunkup.protocols.http import NOT_THE_API
from airflow_provider_chunkup.protocols.retry import RetryPolicy


def probe_missing_resource(hook: ChunkUploadHook, platform: str, path: str,
                           params: Mapping[str, Any] | None = None, found_ok: bool = False) -> tuple[bool, str]:
    """GET ``path`` (a resource no account has): 404 after authentication means the credentials work (and so
    does a success with ``found_ok``: a list that answers an unknown id with no items).

    Returns ``(ok, message)`` for the Airflow UI's Test button, scrubbed of the connection's password.
    """
    try:
        protocol = hook.get_conn()
    except ChunkupError as e:
        return False, _scrub(hook, str(e))
    protocol.client.retry = RetryPolicy(max_attempts=1)  # the Test button waits: answer, don't retry
    where = protocol.client.base_url
    step = f"{platform} connection test (GET {path})"

    async def read(_: object) -> None:
        await protocol.client.request("GET", path, params=dict(params or {}), step=step)

    try:
        run_sync(hook._using(protocol, read))
    except AuthenticationFailed as e:
        return False, _scrub(hook, str(e))
    except RemoteRejected as e:
        if e.status == 404:
            return True, f"Authenticated to {platform} at {where}: the token works (nothing was created)."
        return False, _scrub(hook, f"{e} {NOT_THE_API}")
    except RetryExhausted as e:
        if e.status is not None:
            return False, _scrub(hook, str(e))
        return False, _scrub(hook, cannot_reach(f"{platform} at {where}", e))
    except ChunkupError as e:
        return False, _scrub(hook, str(e))
    if found_ok:
        return True, f"Authenticated to {platform} at {where}: the credentials work (nothing was created)."
    return False, f"{where} answered GET {path} with success for something that does not exist. {NOT_THE_API}"


def _scrub(hook: ChunkUploadHook, message: str) -> str:
    """The message without the connection's password or any token, secret or key in its extra."""
    conn = hook._conn
    secrets = [conn.password] if conn is not None else []
    if hook._options is not None:
        secrets += [str(hook._options.raw(name)) for name in hook._options.names()
                    if any(word in name for word in ("token", "secret", "key")) and hook._options.raw(name)]
    return scrub(message, *secrets)
