"""A client of the local Airflow cluster that ``bash .ci/cluster up`` starts: its REST API, its emulator, its S3.

Used by the cluster tests, the readiness check and the cluster demo. Everything it talks to is on loopback;
``.cluster/cluster.json`` (written by ``up``) gives the ports and the admin password.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

FINISHED = {"success", "failed"}


class ClusterError(AssertionError):
    """The cluster did not do what a test waited for; the message carries what it did instead."""


class RunEnded(AssertionError):
    """A DAG run ended while a test waited for one of its tasks: waiting longer cannot help."""


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` s naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = probe()
        except (httpx.TransportError, ClusterError) as e:  # a component restarting: try again
            value, last = None, e
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f" (last: {last})" if last else ""
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


def _log_line(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    errors = [f"{e.get('exc_type')}: {e.get('exc_value')}" for e in entry.get("error_detail") or []]
    return "\n".join([str(entry.get("event", "")), *errors])


class Cluster:
    """The running cluster described by ``<dir>/cluster.json``."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.dir = Path(directory or os.environ.get("CHUNKUP_CLUSTER_DIR") or ROOT / ".cluster").resolve()
        info_file = self.dir / "cluster.json"
        if not info_file.exists():
            raise ClusterError(f"No cluster at {self.dir}: start one with `bash .ci/cluster up` "
                               "(or run the tests with `bash .ci/cluster test`).")
        self.info = json.loads(info_file.read_text())
        self.api_url: str = self.info["api_url"]
        self.emulator_url: str = self.info["emulator_url"]
        self.s3_url: str = self.info["s3_url"]
        self._token: str | None = None
        self.http = httpx.Client(base_url=self.api_url, timeout=30)
        self.emulator = httpx.Client(base_url=self.emulator_url, timeout=30)

    def close(self) -> None:
        self.http.close()
        self.emulator.close()

    # -- REST API ---------------------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            r = self.http.post("/auth/token", json={"username": self.info["username"],
                                                    "password": self.info["password"]})
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        r = self.http.request(method, f"/api/v2{path}", headers=headers, **kwargs)
        if r.status_code >= 400:
            raise ClusterError(f"{method} /api/v2{path} -> {r.status_code}: {r.text[:500]}")
        return r.json() if r.content else None

    def health(self) -> dict[str, Any]:
        return self.http.get("/api/v2/monitor/health").json()

    def dags(self) -> dict[str, dict[str, Any]]:
        return {d["dag_id"]: d for d in self.api("GET", "/dags", params={"limit": 200})["dags"]}

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Unpause ``dag_id`` and start a run with ``conf``; returns the run id."""
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": dict(conf or {})})
        return run["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        """Wait until the run has finished; returns it (whatever its state)."""
        return wait_for(f"{dag_id} run {run_id} to finish",
                        lambda: r if (r := self.run(dag_id, run_id))["state"] in FINISHED else None, timeout)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                        params={"limit": 1000})["task_instances"]

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        """Every try of one task instance, oldest first (hostname, state, try_number of each)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        if map_index >= 0:
            path += f"/{map_index}"
        return self.api("GET", f"{path}/tries")["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        r = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
                     params={"map_index": map_index, "deserialize": True})
        value = r["value"]
        return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        body = self.api("GET", path, params={"map_index": map_index, "full_content": True},
                        headers={"Accept": "application/json"})
        content = body.get("content") if isinstance(body, dict) else body
        if isinstance(content, list):
            return "\n".join(_log_line(c) for c in content)
        return str(content)

    def running(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any] | None:
        """The task instance once it runs on a worker (hostname known), ``None`` before; fails if the run ended."""
        for ti in self.task_instances(dag_id, run_id):
            if ti["task_id"] == task_id and ti["state"] == "running" and ti["hostname"]:
                return ti
        if self.run(dag_id, run_id)["state"] in FINISHED:
            raise RunEnded(f"{dag_id} run {run_id} ended before {task_id} ran:\n{self.failure_report(dag_id, run_id)}")
        return None

    def task_log_dir(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Path:
        """Where the components write a task's logs (one shared ``AIRFLOW_HOME/logs`` on this machine)."""
        path = self.dir / "home" / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return path / f"map_index={map_index}" if map_index >= 0 else path

    def failure_report(self, dag_id: str, run_id: str) -> str:
        """Each task's state and host, and the log tail of those that did not succeed."""
        lines = []
        for ti in self.task_instances(dag_id, run_id):
            lines.append(f"{ti['task_id']}[{ti['map_index']}] {ti['state']} on {ti['hostname']} "
                         f"try {ti['try_number']}")
            if ti["state"] != "success" and ti["try_number"]:
                try:
                    tail = self.log(dag_id, run_id, ti["task_id"], ti["try_number"], ti["map_index"])[-3000:]
                except ClusterError as e:
                    tail = str(e)
                lines.append("    " + tail.replace("\n", "\n    "))
        return "\n".join(lines)

    def expect_success(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        run = self.wait_run(dag_id, run_id, timeout)
        if run["state"] != "success":
            raise ClusterError(f"{dag_id} run {run_id} ended {run['state']}:\n{self.failure_report(dag_id, run_id)}")
        return run

    # -- the emulator and S3 ------------------------------------------------------------------------

    def emulator_get(self, path: str, **params: Any) -> Any:
        r = self.emulator.get(path, params=params)
        r.raise_for_status()
        return r.json()

    def s3_storage_options(self) -> dict[str, Any]:
        return {"key": self.info["s3_key"], "secret": self.info["s3_key"],
                "client_kwargs": {"endpoint_url": self.s3_url, "region_name": "us-east-1"}}

    def s3(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(**self.s3_storage_options(), skip_instance_cache=True)

    # -- processes ----------------------------------------------------------------------------------

    def session_id(self, component: str) -> int:
        return int((self.dir / "pids" / component).read_text())

    def processes(self, component: str) -> list[dict[str, Any]]:
        """Every process in a component's session: pid, ppid, command line."""
        sid = self.session_id(component)
        out = subprocess.run(["ps", "-eo", "pid=,ppid=,sid=,args="], capture_output=True, text=True,
                             check=True).stdout
        procs = []
        for line in out.splitlines():
            pid, ppid, s, args = line.split(None, 3)
            if int(s) == sid:
                procs.append({"pid": int(pid), "ppid": int(ppid), "args": args})
        return procs

    def restart_worker(self, worker: str) -> None:
        """(Re)start ``worker`` (``a`` or ``b``) and wait until Celery says it is ready."""
        log = self.dir / "logs" / f"worker-{worker}.log"
        subprocess.run(["bash", str(ROOT / ".ci" / "cluster"), "worker", worker], check=True)
        wait_for(f"worker-{worker} to be ready", lambda: log.exists() and "ready." in log.read_text(), 120)
