"""Running Airflow's CLI as a deployment would (``airflow tasks test``, ``dags trigger``) from tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def airflow_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=300)
