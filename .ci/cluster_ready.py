"""Waits until the local cluster can run DAGs: healthy components, both workers ready, every DAG parsed.

Run by ``bash .ci/cluster up``; on a deadline it prints each component's log tail and exits 1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cluster"))

from cluster_client import Cluster, ClusterError, wait_for

COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


def dag_files(directory: Path) -> set[str]:
    return {p.name for p in directory.rglob("*.py") if "dag" in p.read_text()}


def main(directory: str) -> int:
    w = Path(directory)
    started = time.monotonic()
    try:
        wait_for("the api-server", lambda: (w / "cluster.json").exists() and Cluster(w).health(), 120)
        cluster = Cluster(w)

        def healthy() -> bool:
            health = cluster.health()
            return all(health.get(c, {}).get("status") == "healthy" for c in COMPONENTS)

        wait_for(f"{', '.join(COMPONENTS)} to report healthy", healthy, 180)
        for worker in cluster.info["workers"]:
            log = w / "logs" / f"{worker}.log"
            wait_for(f"{worker} to be ready", lambda log=log: log.exists() and "ready." in log.read_text(), 180)
        wanted = dag_files(w / "dags" / "examples") | dag_files(w / "dags" / "cluster_tests")

        def parsed() -> bool:
            errors = cluster.api("GET", "/importErrors")
            if errors["total_entries"]:
                raise SystemExit(f"DAG import errors: {errors['import_errors']}")
            return wanted <= {Path(d["fileloc"]).name for d in cluster.dags().values()}

        wait_for(f"every DAG file to be parsed ({len(wanted)} files)", parsed, 180)
    except (ClusterError, SystemExit) as e:
        print(f"cluster not ready: {e}", file=sys.stderr)
        for log in sorted((w / "logs").glob("*.log")):
            print(f"--- {log.name} (last lines)", file=sys.stderr)
            print("\n".join(log.read_text(errors="replace").splitlines()[-15:]), file=sys.stderr)
        return 1
    print(f"   components healthy, workers ready, DAGs parsed after {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
