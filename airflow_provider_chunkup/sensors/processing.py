"""Waits until the platform has processed an uploaded media, poking or deferred."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, Context, PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.registry import hook_for_api
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult
from airflow_provider_chunkup.triggers.processing import MediaProcessingTrigger


class MediaProcessingSensor(BaseSensorOperator):
    """Succeeds when the uploaded media is ready; fails with the platform's reason if it failed.

    Media with nothing to process (no processing info after finalize) succeeds at once, without a
    request. XCom: the final :class:`ProcessingStatus` dict.

    :param upload: the finalize task's output (an ``UploadResult`` dict). Templated. Or give
        ``media_id`` (and ``api``/``conn_id``) instead.
    :param media_id: the media to wait for, without ``upload``. Templated.
    :param api: the API of ``media_id``: ``x``, ``apivideo`` or ``content_range``.
    :param conn_id: the API's connection; by default the one in ``upload``, else the API's default. Templated.
    :param poke_interval: seconds between polls when the platform gives no ``check_after_secs``
        (which is honoured when longer).
    :param until: what "done" means where the platform distinguishes: api.video ``playable``
        (the connection's choice by default) or ``encoded`` (every quality). Templated.
    :param timeout: the maximum wait, in seconds, before the task fails.
    :param deferrable: hand the wait to the triggerer instead of holding a worker slot.
    """

    template_fields: Sequence[str] = ("upload", "media_id", "conn_id", "until")
    ui_color = "#f9e79f"

    def __init__(self, *, upload: Mapping[str, Any] | str | None = None, media_id: str | None = None,
                 api: str = "x", conn_id: str | None = None, until: str | None = None, poke_interval: float = 5.0,
                 timeout: float | timedelta = 3600.0,
                 deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
                 **kwargs: Any) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.upload = upload
        self.media_id = media_id
        self.api = api
        self.conn_id = conn_id
        self.until = until
        self.deferrable = deferrable
        self._next_check = 0.0

    def _target(self) -> tuple[str, str, str | None, ProcessingStatus | None]:
        """(api, media_id, conn_id, status known from finalize)."""
        if self.upload:
            result = UploadResult.from_dict(self.upload)
            return result.api, result.media_id, self.conn_id or result.conn_id, result.processing_status
        if not self.media_id:
            raise ConfigurationError("MediaProcessingSensor needs upload (the finalize task's output) or media_id.")
        return self.api, str(self.media_id), self.conn_id, None

    def execute(self, context: Context) -> Any:
        api, media_id, conn_id, known = self._target()
        if known is not None and (known.done or known.failed):
            return self._finish(media_id, known)
        if not self.deferrable:
            return super().execute(context)
        status = hook_for_api(api, conn_id).status(media_id, self.until)
        if status.done or status.failed:
            return self._finish(media_id, status)
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else float(self.timeout)
        self.defer(
            trigger=MediaProcessingTrigger(api=api, conn_id=conn_id, media_id=media_id, until=self.until,
                                           poll_interval=float(self.poke_interval),
                                           deadline=time.time() + timeout),
            method_name="execute_complete",
            timeout=timedelta(seconds=timeout),
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        api, media_id, conn_id, _ = self._target()
        if time.monotonic() < self._next_check:
            return False  # the platform asked us to wait longer than poke_interval
        status = hook_for_api(api, conn_id).status(media_id, self.until)
        if status.failed:
            self._finish(media_id, status)
        if status.done:
            return PokeReturnValue(is_done=True, xcom_value=status.to_dict())
        self._next_check = time.monotonic() + float(status.check_after_secs or 0)
        self.log.info("Media %s is %s (%s%%)", media_id, status.state,
                      status.progress_percent if status.progress_percent is not None else "?")
        return False

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        media_id = event.get("media_id", "?")
        if event.get("status") == "error":
            raise AirflowException(f"Checking processing of media {media_id} failed: {event.get('message')}")
        status = ProcessingStatus.from_dict(event.get("processing") or {"state": "unknown"})
        if event.get("status") == "timeout":
            raise AirflowException(
                f"Media {media_id} was still {status.state} when the sensor's timeout ran out; raise "
                "timeout if the platform needs longer."
            )
        return self._finish(media_id, status)

    def _finish(self, media_id: str, status: ProcessingStatus) -> dict[str, Any]:
        if status.failed:
            raise AirflowFailException(
                f"The platform failed to process media {media_id}: {status.reason()}. Check the file against the "
                "platform's media requirements (codec, container, duration, resolution) and upload a fixed one."
            )
        self.log.info("Media %s is ready (%s)", media_id, status.state)
        return status.to_dict()
