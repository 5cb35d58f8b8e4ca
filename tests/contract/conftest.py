"""The contract suite's fixtures: ``profile`` runs a check once per profile, ``api`` connects it to the emulator.

The emulator is one server for the suite, reset before every check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_idle import wait_until_idle

from airflow_provider_chunkup.emulators import EmulatorServer

from .profiles import PROFILES, ApiProfile, EmulatorControl
from .support import Api


@pytest.fixture(scope="session")
def contract_emulator() -> Iterator[EmulatorServer]:
    """One emulator for the whole suite: uvicorn takes about 0.2 s to stop, which a server per check would pay."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator(contract_emulator: EmulatorServer) -> EmulatorServer:
    """The suite's emulator as it started (config, fault rules, seed), with no uploads, stats or rate-limit windows.

    Overrides the test-wide fixture, so the connection fixtures (``x_connection``...) point at it too.
    """
    wait_until_idle(contract_emulator)  # nothing of the previous check lands after the reset
    contract_emulator.reset()
    return contract_emulator


@pytest.fixture(params=PROFILES, ids=str)
def profile(request: pytest.FixtureRequest) -> ApiProfile:
    return request.param


@pytest.fixture
def connect(profile: ApiProfile, emulator: Any, request: pytest.FixtureRequest,
            tmp_path: Path) -> Callable[..., Api]:
    """Connect the profile to the emulator; keyword arguments are extra connection fields (``retry_*``...)."""
    control = EmulatorControl(emulator.url)
    if profile.emulator_config:
        control.configure(profile.emulator_config)

    def make(**extra: Any) -> Api:
        made = Api(profile, profile.connect(request, **extra), control, emulator, tmp_path)
        made.probes_before = made._probes()
        return made

    return make


@pytest.fixture
def api(connect: Callable[..., Api]) -> Api:
    """The profile connected to a fresh emulator with its default connection, the request counts at zero."""
    connected = connect()
    connected.reset_stats()
    return connected
