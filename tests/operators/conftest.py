"""The crash tests' Airflow: the DAGs in crash_dags/, serialized into the test metadata DB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from airflow_tasks import airflow_cli

CRASH_DAGS = str(Path(__file__).parent / "crash_dags")


@pytest.fixture
def crash_env(airflow_db, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", CRASH_DAGS)
    env = dict(os.environ)
    done = airflow_cli("dags", "reserialize", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return env
