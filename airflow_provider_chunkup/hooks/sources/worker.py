"""Opening a task's source on the worker it runs on, and saying so when the file is on another worker's disk.

In a distributed deployment each task may run on a different machine. A file an upstream task wrote to its
worker's local disk is invisible to the others: the error then names this worker (and, for a split upload,
the worker that opened it) and the fix, instead of a bare "does not exist" that a retry might or might not
get past by landing on the right machine.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from airflow_provider_chunkup.errors import SourceMissing
from airflow_provider_chunkup.hooks.sources import readable
from airflow_provider_chunkup.sources import ChunkSource


def this_worker() -> str:
    """This machine's name as Airflow reports it for task instances (its ``hostname_callable``)."""
    try:
        from airflow.utils.net import get_hostname

        return str(get_hostname())
    except Exception:  # an unusual callable must not hide the real error
        return socket.getfqdn()


@contextmanager
def open_source(source: Any, storage_options: Mapping[str, Any] | None,
                opened_on: str | None = None) -> Iterator[ChunkSource]:
    """A :class:`ChunkSource` for ``source``; a local file missing here fails naming this worker and the fix.

    :param opened_on: the worker that opened the upload (``UploadSession.source_host``), when known.
    """
    src = ChunkSource(readable(source), storage_options)
    try:
        with src:
            yield src
    except SourceMissing as e:
        if not src.is_local:
            raise
        raise missing_here(src.url, opened_on) from e


def missing_here(url: str, opened_on: str | None) -> SourceMissing:
    here = this_worker()
    where = (f" (the upload was opened on {opened_on}, which could read it)" if opened_on and opened_on != here
             else " (if an upstream task wrote it on another worker, only that worker's disk has it)")
    relative = "" if os.path.isabs(url) or "://" in url else (
        f" The path is relative: the worker reads it from its own working directory, {os.getcwd()}; give an "
        "absolute path.")
    return SourceMissing(
        f"Source {url} does not exist on {here}, the worker running this task{where}.{relative} Tasks may run on any "
        "worker, and one worker's local disk is invisible to the others: write sources to an object store "
        "(s3://, gs://, az:// with source_conn_id) or to a volume mounted at the same path on every worker."
    )
