"""The contract suite's fixtures: ``profile`` runs a check once per profile, ``api`` connects it to the emulator.

The emulator is one server for the suite, reset before every check. Checks a profile fails because of a
reported product bug are listed in :data:`AWAITING_PRODUCT_FIX` and deselected until the fix lands.
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
        return Api(profile, profile.connect(request, **extra), control, emulator, tmp_path)

    return make


@pytest.fixture
def api(connect: Callable[..., Api]) -> Api:
    """The profile connected to a fresh emulator with its default connection, the request counts at zero."""
    connected = connect()
    connected.reset_stats()
    return connected


#: Checks a profile fails today because of a product bug that was reported and is not fixed yet. They are kept
#: out of the run (deselected, so the summary line counts them), never skipped or expected to fail; the commit
#: that fixes the bug deletes the entry. A difference the API's abilities explain never goes here: the profile
#: declares it and the check asserts it.
AWAITING_PRODUCT_FIX: dict[str, str] = {
    "test_faults[apivideo_token]": (
        "a part whose answer was lost (5xx or a drop after api.video stored it) is sent again and refused as "
        "'part already sent'; without an API key chunkup cannot ask /status, so the upload fails"),
    "test_resume_from_server_state[apivideo_token]": (
        "the retried append sends again the parts the killed try sent; api.video refuses them as 'part already "
        "sent' and the upload fails, though the refusal says the server holds them"),
    "test_status[apivideo_token]": (
        "status on a connection with an upload token and no API key sends a request bound to fail (401) and "
        "names the token as a suspect, instead of saying before any request that status needs the API key"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    awaiting = [item for item in items if item.name in AWAITING_PRODUCT_FIX and here in item.path.parents]
    if awaiting:
        config.hook.pytest_deselected(items=awaiting)
        items[:] = [item for item in items if item not in awaiting]
