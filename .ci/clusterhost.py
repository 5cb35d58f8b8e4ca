"""Airflow's ``hostname_callable`` for the local cluster: each Celery worker names itself (worker-a, worker-b).

Both workers run on one machine, so ``socket.getfqdn()`` would give them one name and the tests could not
tell which worker ran a task.
"""

import os
import socket


def hostname() -> str:
    return os.environ.get("CLUSTER_HOSTNAME") or socket.getfqdn()
