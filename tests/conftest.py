"""Test-wide set-up: an isolated AIRFLOW_HOME (before Airflow is imported) and connection helpers."""

from __future__ import annotations

import os
import tempfile

# Once per test run, even if a test module imports this file again as ``conftest``.
_HOME = os.environ.get("CHUNKUP_TEST_AIRFLOW_HOME") or tempfile.mkdtemp(prefix="chunkup-airflow-home-")
os.environ["CHUNKUP_TEST_AIRFLOW_HOME"] = os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.join(os.path.dirname(__file__), "..", "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
# The brochure example's Asset URI is read when its DAG file is parsed: one value for the whole run, since every
# dag.test() writes all the example DAGs to the DB and an Asset whose URI changed between two writes stays
# inactive (its name still belongs to the earlier, active URI) until a scheduler cleans up.
os.environ["CHUNKUP_BROCHURE"] = os.path.join(_HOME, "brochures", "latest.pdf")

import contextlib  # noqa: E402
import json  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import local_stores  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def set_connection(monkeypatch) -> Callable[..., str]:
    """Define a connection through AIRFLOW_CONN_<ID> in JSON form, as a deployment would."""

    def define(conn_id: str, **fields: Any) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))
        return conn_id

    return define


EMULATOR_TOKEN = "chunkup-emulator-token"
OAUTH1 = {"consumer_key": "chunkup-consumer-key", "consumer_secret": "chunkup-consumer-secret",
          "access_token": "chunkup-access-token", "access_token_secret": "chunkup-access-token-secret"}


@pytest.fixture
def emulator():
    """The chunkup emulator on a free loopback port, processing quickly; stopped after the test."""
    from airflow_provider_chunkup.emulators import EmulatorServer

    with EmulatorServer() as server:
        server.config.x.processing_seconds = 0.0
        yield server


@pytest.fixture
def x_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_x connection to the emulator: OAuth 2.0 bearer by default, or OAuth 1.0a."""

    def define(conn_id: str = "chunkup_x_default", *, auth: str = "oauth2", **extra: Any) -> str:
        if auth == "oauth1":
            return set_connection(conn_id, conn_type="chunkup_x", host=emulator.url, login=OAUTH1["consumer_key"],
                                  password=OAUTH1["consumer_secret"],
                                  extra={"access_token": OAUTH1["access_token"],
                                         "access_token_secret": OAUTH1["access_token_secret"], **extra})
        return set_connection(conn_id, conn_type="chunkup_x", host=emulator.url, password=EMULATOR_TOKEN,
                              extra=extra)

    return define


@pytest.fixture
def media_file(tmp_path) -> Callable[..., Any]:
    """Write a file of random bytes (in bounded pieces) and return its path."""

    def make(size: int, name: str = "clip.mp4"):
        path = tmp_path / name
        with open(path, "wb") as f:
            left = size
            while left:
                piece = os.urandom(min(left, 1 << 20))
                f.write(piece)
                left -= len(piece)
        return path

    return make


@pytest.fixture
def received(emulator) -> Callable[[str], dict[str, Any]]:
    """What the emulator received for a media id: size, sha256, segments, state."""
    import httpx

    def inspect(media_id: str) -> dict[str, Any]:
        response = httpx.get(f"{emulator.url}/_emulator/x/media/{media_id}")
        response.raise_for_status()
        return response.json()

    return inspect


APIVIDEO_KEY = "chunkup-apivideo-key"


@pytest.fixture
def apivideo_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_apivideo connection to the emulator (Basic auth with its key by default)."""

    def define(conn_id: str = "chunkup_apivideo_default", *, password: str | None = APIVIDEO_KEY, **extra: Any) -> str:
        fields: dict[str, Any] = {"conn_type": "chunkup_apivideo", "host": emulator.url, "extra": extra}
        if password:
            fields["password"] = password
        return set_connection(conn_id, **fields)

    return define


CONTENT_RANGE_TOKEN = "chunkup-content-range-token"


@pytest.fixture
def content_range_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_content_range connection to the emulator (SelfCommunity's paths by default)."""

    def define(conn_id: str = "chunkup_content_range_default", *, password: str = CONTENT_RANGE_TOKEN,
               **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_content_range", host=emulator.url, password=password,
                              extra=extra)

    return define


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's threaded S3 server on loopback, as s3fs's own tests run it; stopped after the session."""
    with local_stores.moto_s3() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def s3rver_endpoint(tmp_path_factory):
    """s3rver (disk-backed, streams ranges, checks access keys) with a bucket ``media``; stopped after the session."""
    with _started(local_stores.s3rver(tmp_path_factory.mktemp("s3rver"))) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def azurite_endpoint(tmp_path_factory):
    """Azurite's blob service in memory; stopped (and waited for) after the session."""
    from adlfs import AzureBlobFileSystem

    with _started(local_stores.azurite(tmp_path_factory.mktemp("azurite"))) as endpoint:
        yield endpoint
    AzureBlobFileSystem.clear_instance_cache()


@pytest.fixture(scope="session")
def gcs_endpoint():
    """gcp-storage-emulator in this process, in memory; stopped after the session."""
    from gcsfs import GCSFileSystem

    with local_stores.gcs_emulator() as endpoint:
        yield endpoint
    GCSFileSystem.clear_instance_cache()


@contextlib.contextmanager
def _started(server):
    """Enter a local store's context; a missing program fails the test with the message saying how to fix it."""
    try:
        endpoint = server.__enter__()
    except local_stores.StoreUnavailable as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield endpoint
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def s3_bucket(s3_endpoint, set_connection):
    """An empty bucket ``media`` on a reset moto, and ``minio``, an aws-style connection to it."""
    import boto3
    import httpx
    from s3fs import S3FileSystem

    httpx.post(f"{s3_endpoint}/moto-api/reset").raise_for_status()
    S3FileSystem.clear_instance_cache()
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="media")
    return set_connection("minio", conn_type="aws", login="testing", password="testing",
                          extra={"region_name": "us-east-1", "endpoint_url": s3_endpoint})


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated SQLite metadata DB in the test AIRFLOW_HOME (dag.test() and the airflow CLI need one)."""
    import subprocess
    import sys
    from pathlib import Path

    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)


@pytest.fixture
def loopback_only(monkeypatch) -> Iterator[list[str]]:
    """Names looked up during the test; resolving anything but loopback fails it (nothing leaves the host)."""
    import socket

    from airflow_provider_chunkup._net import is_loopback

    looked_up: list[str] = []
    real = socket.getaddrinfo
    # This machine's own name: Airflow's hostname_callable resolves it to name the worker a task runs on
    # (answered locally, from /etc/hosts); chunkup records it for local-file sources.
    own = socket.gethostname()

    def local(name: str) -> bool:
        return is_loopback(name) or name == own

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        looked_up.append(name)
        if not local(name):
            raise socket.gaierror(socket.EAI_NONAME, f"test refuses to resolve {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    yield looked_up
    assert all(local(name) for name in looked_up), looked_up


def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    """tests/cluster needs the [cluster] extra (playwright...) and a running cluster: not even imported unless
    the cluster tests are asked for (`-m cluster`, as `bash .ci/cluster test` does)."""
    if "cluster" in (config.option.markexpr or ""):
        return None
    if str(collection_path) == os.path.join(os.path.dirname(os.path.abspath(__file__)), "cluster"):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The cluster tests need `bash .ci/cluster up`: they run only when asked for (`-m cluster`), deselected else."""
    if "cluster" in (config.option.markexpr or ""):
        return
    kept = [item for item in items if item.get_closest_marker("cluster") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


VIMEO_TOKEN = "vimeo-token"
CLOUDFLARE_TOKEN = "cf-token"
CLOUDFLARE_ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"


@pytest.fixture
def vimeo_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_vimeo connection to the emulator's Vimeo front door (``/vimeo``)."""

    def define(conn_id: str = "chunkup_vimeo_default", *, password: str = VIMEO_TOKEN, **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_vimeo", host=f"{emulator.url}/vimeo", password=password,
                              extra=extra)

    return define


@pytest.fixture
def cloudflare_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_cloudflare_stream connection to the emulator's Stream API (``/client/v4``); no token on request."""

    def define(conn_id: str = "chunkup_cloudflare_stream_default", *, password: str | None = CLOUDFLARE_TOKEN,
               **extra: Any) -> str:
        fields: dict[str, Any] = {"conn_type": "chunkup_cloudflare_stream", "host": f"{emulator.url}/client/v4",
                                  "login": CLOUDFLARE_ACCOUNT, "extra": extra}
        if password:
            fields["password"] = password
        return set_connection(conn_id, **fields)

    return define


YOUTUBE_CLIENT = {"login": "chunkup-client", "password": "chunkup-secret"}
YOUTUBE_REFRESH = "chunkup-refresh"


@pytest.fixture
def youtube_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_youtube connection to the emulator: the OAuth client and a refresh token (``/token``)."""

    def define(conn_id: str = "chunkup_youtube_default", **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_youtube", host=emulator.url, **YOUTUBE_CLIENT,
                              extra={"refresh_token": YOUTUBE_REFRESH, "oauth_endpoint": f"{emulator.url}/token",
                                     **extra})

    return define


@pytest.fixture
def gcs_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_gcs connection to the emulator's Cloud Storage, bucket ``media``."""

    def define(conn_id: str = "chunkup_gcs_default", **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_gcs", host=emulator.url,
                              extra={"bucket": "media", "access_token": "gcs-token", **extra})

    return define
