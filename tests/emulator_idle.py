"""Waiting for the in-process emulator to finish what it received, before reading its stats.

A client that gives up on a request (a task cancelled when its upload failed, a worker that died)
does not wait for the server: the emulator may still be storing that segment, or only now noticing
the disconnect, when the test reads ``/_emulator/stats`` - and it counts the request a moment later.
"""

from __future__ import annotations

import time

import httpx

from airflow_provider_chunkup.emulators import EmulatorServer


def wait_until_idle(server: EmulatorServer, timeout: float = 60.0) -> None:
    """Return once every request the emulator had received has been answered and counted in its stats.

    A request of our own goes first: by the time it is answered, the server has read whatever had
    arrived before it. uvicorn keeps a task per request in progress (``server_state.tasks``); the
    stats are counted inside that task, so once all are done, all are counted.
    """
    httpx.get(f"{server.url}/_emulator/health", timeout=timeout).raise_for_status()
    tasks = server._server.server_state.tasks  # uvicorn's own record of requests in progress
    deadline = time.monotonic() + timeout
    while busy := [task for task in list(tasks) if not task.done()]:
        assert time.monotonic() < deadline, f"the emulator still had {len(busy)} requests in progress after {timeout} s"
        time.sleep(0.005)
