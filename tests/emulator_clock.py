"""The in-process emulator's wall clock under a test's control: paused, moved on, let run again.

The emulator's processing and encoding, upload expiry and rate-limit windows all follow
``time.time()``. A test that asserts a state in between (``pending`` right after FINALIZE,
``in_progress`` half way, a 429 inside a one-second window) would otherwise pass or fail by how
quickly a busy machine answered. Only the emulator's own modules see this clock; chunkup (the client
under test) keeps the real one. The emulator subprocesses of the CLI tests are not affected.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
import time
from typing import Any

import httpx
import pytest

import airflow_provider_chunkup.emulators as emulators


class EmulatorClock:
    """``time.time()`` for the emulator: real time plus an offset, or frozen while paused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._paused_at: float | None = None

    def time(self) -> float:
        with self._lock:
            return self._paused_at if self._paused_at is not None else time.time() + self._offset

    def pause(self) -> None:
        """Stop the clock where it is: nothing the emulator times moves until ``advance`` or ``resume``."""
        with self._lock:
            if self._paused_at is None:
                self._paused_at = time.time() + self._offset

    def resume(self) -> None:
        """Run again from where it stands, at real speed."""
        with self._lock:
            if self._paused_at is not None:
                self._offset = self._paused_at - time.time()
                self._paused_at = None

    def advance(self, seconds: float) -> None:
        """Move the clock forward (paused or not)."""
        with self._lock:
            if self._paused_at is not None:
                self._paused_at += seconds
            else:
                self._offset += seconds


class _ClockedTime:
    """Stands in for the ``time`` module inside the emulator: ``time()`` from the clock, the rest real."""

    def __init__(self, clock: EmulatorClock) -> None:
        self._clock = clock

    def time(self) -> float:
        return self._clock.time()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def controlled_clock(monkeypatch: pytest.MonkeyPatch, *, paused: bool = True) -> EmulatorClock:
    """Give every emulator module (the API packages' too) the returned clock until the test ends; paused unless
    asked otherwise."""
    clock = EmulatorClock()
    if paused:
        clock.pause()
    stand_in = _ClockedTime(clock)
    for info in pkgutil.walk_packages(emulators.__path__, emulators.__name__ + "."):
        if info.name.endswith(".__main__"):  # importing it runs the emulator
            continue
        module = importlib.import_module(info.name)
        if getattr(module, "time", None) is time:
            monkeypatch.setattr(module, "time", stand_in)
    return clock


class NextWindowOn429(httpx.AsyncHTTPTransport):
    """A client transport for rate-limit tests on a paused clock: each 429 moves the emulator's clock
    into the next window (so the client's retry can succeed), and every exchange is logged.

    ``exchanges`` holds ``(sent, received, status, headers)`` per request, times from ``time.time()``.
    """

    def __init__(self, clock: EmulatorClock, window_secs: float) -> None:
        super().__init__()
        self.clock = clock
        self.window_secs = window_secs
        self.exchanges: list[tuple[float, float, int, httpx.Headers]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.time()
        response = await super().handle_async_request(request)
        if response.status_code == 429:
            self.clock.advance(self.window_secs)
        self.exchanges.append((sent, time.time(), response.status_code, response.headers))
        return response

    def after_429(self) -> list[tuple[httpx.Headers, float, float]]:
        """For each 429: its headers, when it arrived, and when the client sent its next request."""
        return [(self.exchanges[i][3], self.exchanges[i][1], self.exchanges[i + 1][0])
                for i in range(len(self.exchanges) - 1) if self.exchanges[i][2] == 429]
