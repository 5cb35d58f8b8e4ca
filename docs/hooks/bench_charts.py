"""MkDocs hook: serve the benchmark charts from ``bench/results/`` as ``bench/results/<name>`` in the site.

MkDocs only publishes files under ``docs_dir``; the charts stay where ``bash bench/run`` writes them (one copy
in git) and are added to the build here, so ``docs/benchmarks.md`` (and the README sections it includes) link
them with the same relative path the README uses: ``bench/results/time_vs_peers.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

CHARTS = ("*.png", "*.svg")


def on_files(files: Files, config: Any) -> Files:
    results = Path(config["config_file_path"]).parent / "bench" / "results"
    for pattern in CHARTS:
        for chart in sorted(results.glob(pattern)):
            files.append(File.generated(config, f"bench/results/{chart.name}", abs_src_path=str(chart)))
    return files
