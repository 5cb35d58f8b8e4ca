"""Test-wide set-up: an isolated AIRFLOW_HOME (before Airflow is imported) and connection helpers."""

from __future__ import annotations

import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="chunkup-airflow-home-")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.join(os.path.dirname(__file__), "..", "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

import json  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def set_connection(monkeypatch) -> Callable[..., str]:
    """Define a connection through AIRFLOW_CONN_<ID> in JSON form, as a deployment would."""

    def define(conn_id: str, **fields: Any) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))
        return conn_id

    return define
