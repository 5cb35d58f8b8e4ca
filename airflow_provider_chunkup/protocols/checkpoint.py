"""Where an upload records how far it got, so a task retried after a crash continues it.

A :class:`Checkpoint` writes to any key-value store with ``get``/``set``/``delete`` (Airflow's task
state store, which survives retries of a task instance; a dict in tests). It holds the session
(ids, sizes, the segments the platform acknowledged: never a secret) while the upload runs, and the
result once it is finalized, so a retry neither opens a second remote upload nor finalizes twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from airflow_provider_chunkup.protocols.session import UploadResult, UploadSession

log = logging.getLogger(__name__)


class KeyValueStore(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...


class Checkpoint:
    """One upload's record under ``key`` in ``store``.

    :param identity: what the upload is of (source, size...): a record made for another file is
        ignored, so a task whose source changed between tries starts afresh.
    """

    def __init__(self, store: KeyValueStore, key: str = "chunkup.upload",
                 identity: Mapping[str, Any] | None = None) -> None:
        self.store = store
        self.key = key
        self.identity = dict(identity or {})

    def _load(self) -> dict[str, Any] | None:
        record = self.store.get(self.key, None)
        if not isinstance(record, Mapping):
            return None
        if record.get("identity", {}) != self.identity:
            log.info("Ignoring the checkpoint of an upload of another file (%s).", record.get("identity"))
            return None
        return dict(record)

    def session(self) -> UploadSession | None:
        """The session an earlier try left unfinished, if any."""
        record = self._load()
        return UploadSession.from_dict(record["session"]) if record and record.get("session") else None

    def result(self) -> UploadResult | None:
        """The result of an earlier try that finalized the upload, if any."""
        record = self._load()
        return UploadResult.from_dict(record["result"]) if record and record.get("result") else None

    def save_session(self, session: UploadSession) -> None:
        self.store.set(self.key, {"identity": self.identity, "session": session.to_dict()})

    def save_result(self, result: UploadResult) -> None:
        self.store.set(self.key, {"identity": self.identity, "result": result.to_dict()})

    def clear(self) -> None:
        self.store.delete(self.key)


class MemoryStore(dict):  # type: ignore[type-arg]
    """A :class:`KeyValueStore` in memory (tests, scripts): ``get``, ``set`` and ``delete``."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)
