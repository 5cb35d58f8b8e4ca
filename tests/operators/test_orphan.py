"""stop_if_orphaned: a process whose supervisor dies ends itself; one whose supervisor lives goes on."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

from processes import alive

from airflow_provider_chunkup.operators.orphan import EXIT_CODE, stop_if_orphaned, supervisor_pid

# A "supervisor" process that starts a "task" process watching it, prints the task's pid, and waits.
SUPERVISOR = textwrap.dedent("""
    import subprocess, sys
    task = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stderr=open(sys.argv[2], "wb"))
    print(task.pid, flush=True)
    sys.exit(task.wait())
""")
TASK = textwrap.dedent("""
    import logging, os, time
    from airflow_provider_chunkup.operators.orphan import stop_if_orphaned
    with stop_if_orphaned(logging.getLogger("task"), supervisor=os.getppid(), interval=0.05):
        print("armed", flush=True)
        time.sleep(120)
""")


def test_the_task_ends_when_its_supervisor_is_killed(tmp_path):
    err = tmp_path / "task.err"
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, TASK, str(err)], stdout=subprocess.PIPE,
                                  text=True)
    lines = {supervisor.stdout.readline().strip(), supervisor.stdout.readline().strip()}  # pid, and "armed"
    assert "armed" in lines, lines
    (task_pid,) = (int(line) for line in lines if line != "armed")
    supervisor.send_signal(signal.SIGKILL)
    supervisor.wait()
    deadline = time.monotonic() + 60
    while alive(task_pid):
        assert time.monotonic() < deadline, "the orphaned task process did not stop"
        time.sleep(0.05)
    assert "another try owns the upload now" in err.read_text()


def test_the_task_goes_on_while_its_supervisor_lives():
    with stop_if_orphaned(logging.getLogger("t"), supervisor=os.getppid(), interval=0.01):
        time.sleep(0.1)  # many checks; the parent is alive, so nothing happens
    assert EXIT_CODE == 75


def test_no_watch_outside_a_supervised_task_process():
    assert supervisor_pid() is None  # tests, dag.test() and `airflow tasks test` run tasks in-process
