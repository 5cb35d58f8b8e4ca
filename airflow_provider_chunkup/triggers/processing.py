"""Polls a platform's processing status asynchronously, for the deferrable sensor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_chunkup.errors import ChunkupError


class MediaProcessingTrigger(BaseTrigger):
    """Yields one event when processing ends: ``succeeded``, ``failed``, ``timeout`` or ``error``.

    :param api: the session's API (``x``...).
    :param conn_id: its connection.
    :param media_id: the uploaded media.
    :param until: what "done" means (api.video: ``playable`` or ``encoded``).
    :param poll_interval: seconds between polls when the platform gives no ``check_after_secs``.
    :param deadline: epoch seconds to give up at.
    """

    def __init__(self, *, api: str, conn_id: str | None, media_id: str, until: str | None = None,
                 poll_interval: float = 5.0, deadline: float | None = None) -> None:
        super().__init__()
        self.api = api
        self.conn_id = conn_id
        self.media_id = media_id
        self.until = until
        self.poll_interval = poll_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}", {
            "api": self.api, "conn_id": self.conn_id, "media_id": self.media_id, "until": self.until,
            "poll_interval": self.poll_interval, "deadline": self.deadline,
        })

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_chunkup.hooks.registry import hook_for_api

        event = {"media_id": self.media_id, "api": self.api}
        try:
            hook = hook_for_api(self.api, self.conn_id)
            async with await hook.aget_conn() as protocol:
                while True:
                    status = await protocol.status(self.media_id, self.until)
                    if status.done or status.failed:
                        yield TriggerEvent({**event, "status": status.state, "processing": status.to_dict()})
                        return
                    wait = max(self.poll_interval, float(status.check_after_secs or 0))
                    if self.deadline is not None and time.time() + wait > self.deadline:
                        yield TriggerEvent({**event, "status": "timeout", "processing": status.to_dict()})
                        return
                    self.log.info("Media %s is %s (%s%%); next check in %.0f s", self.media_id, status.state,
                                  status.progress_percent if status.progress_percent is not None else "?", wait)
                    await asyncio.sleep(wait)
        except ChunkupError as e:
            yield TriggerEvent({**event, "status": "error", "message": str(e)})
