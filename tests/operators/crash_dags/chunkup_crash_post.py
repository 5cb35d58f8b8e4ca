"""A one-task X post whose worker the crash tests kill with SIGKILL, then run again.

With ``CHUNKUP_PAUSE_AFTER_POST`` set to a path, the task writes the post id there once X answered (and the
operator recorded it) and waits to be killed, before it can return: the moment the test kills it.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import dag

from airflow_provider_chunkup.operators.x_post import XCreatePostOperator


class PostThenWait(XCreatePostOperator):
    def execute(self, context: Any) -> dict[str, Any]:
        out = super().execute(context)
        pause = os.environ.get("CHUNKUP_PAUSE_AFTER_POST")
        if pause:
            Path(pause).write_text(out["post_id"])
            while True:  # until SIGKILL
                time.sleep(1)
        return out


@dag(dag_id="chunkup_crash_post", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
     default_args={"retries": 5})
def chunkup_crash_post() -> None:
    PostThenWait(task_id="post", text="{{ dag_run.conf['text'] }}", media="{{ dag_run.conf['media_id'] }}",
                 alt_text="{{ dag_run.conf['alt_text'] }}")


chunkup_crash_post()
