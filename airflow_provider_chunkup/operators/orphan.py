"""Stop a task process that lost its supervisor: a retry may already be sending the same upload.

When a Celery worker's process dies, the task process it supervised lives on, as an orphan, until its next
call to the supervisor; meanwhile the scheduler may start the next try on another worker, and both send
chunks of one remote upload. Nobody can hear from the orphan any more (its logs, XCom and task state go
through the dead supervisor), so it has nothing left to finish: a watcher thread sees the parent change and
ends the process at once. Its requests in flight are cut mid-body, which every API discards, so the upload
stays byte-exact and the new try resumes from what the server and the task state store say.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_CODE = 75  # EX_TEMPFAIL: nobody reads it (the supervisor is gone), but it says why in a process listing


def supervisor_pid() -> int | None:
    """The pid of this task's supervisor, when the task runs in a process of its own under one, else ``None``.

    ``dag.test()`` and ``airflow tasks test`` run tasks in the caller's process: no watch there.
    """
    try:
        from airflow.sdk.execution_time import task_runner
        from airflow.sdk.execution_time.comms import CommsDecoder
    except ImportError:
        return None
    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    if isinstance(comms, CommsDecoder) and getattr(comms, "socket", None) is not None:
        return os.getppid()
    return None


@contextmanager
def stop_if_orphaned(log: logging.Logger, supervisor: int | None = None, interval: float = 0.2) -> Iterator[None]:
    """While the block runs, end this process within ``interval`` s of its supervisor's death.

    :param supervisor: the supervisor's pid (found by :func:`supervisor_pid` when unset); no watch without one.
    """
    parent = supervisor if supervisor is not None else supervisor_pid()
    if parent is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(interval):
            if os.getppid() != parent:
                message = (f"chunkup: the supervisor of this task (pid {parent}) is gone; another try owns the "
                           "upload now, so this one stops here.\n")
                try:
                    log.error(message.strip())
                    os.write(2, message.encode())
                finally:
                    os._exit(EXIT_CODE)

    watcher = threading.Thread(target=watch, name="chunkup-orphan-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
