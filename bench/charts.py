"""PNG charts from the JSON in bench/results/, for the README.

    bench/.venv-peers/bin/python bench/charts.py

Reads ``x_upload.json``, ``apivideo_upload.json``, ``content_range_upload.json`` and
``s3_source*.json`` and ``cluster_fanout.json`` and writes, next to them:

- ``time_vs_peers.png``: each method's median upload time relative to curl, per API.
- ``rss_by_size.png``: peak RSS against file size, per method.
- ``resume.png``: bytes sent again after the process was killed half-way and restarted.
- ``s3_overlap.png``: S3 -> X against reading alone and sending alone.
- ``cluster_fanout.png``: on the Airflow cluster, how much faster 2 workers make the fan-out and 4 mapped
  appends the split upload, per network condition.
- ``tus_upload.png``: tus and Vimeo against tuspy, PyVimeo and curl: time relative to curl, peak RSS
  above the idle process per chunk size, bytes sent again after a kill.
- ``youtube_upload.png``: YouTube (Google's resumable protocol) against google-api-python-client and curl:
  time relative to curl, peak RSS above the idle process per file and chunk size, bytes sent again after a
  kill.
- ``meta_upload.png``: Facebook video (Graph's windows) against facebook-business and curl, the same three.

Each chart's footer names the machine, the versions and the date the numbers came from, wrapped to the
figure's width. ``charts.py tus_upload youtube_upload`` draws only the charts named (default: all).
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

RESULTS = Path(__file__).resolve().parent / "results"
BENCHES = {"x_upload": "X (v1.1, TLS)", "x_v2_plain": "X (v2, plain http)", "apivideo_upload": "api.video",
           "content_range_upload": "Content-Range"}


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


FOOTER_POINTS = 6


def footer_lines(figure: plt.Figure, sources: list[dict[str, Any]]) -> list[str]:
    """Machine, versions and dates of the results drawn, wrapped to the figure's width."""
    width = int(figure.get_figwidth() * 72 / (FOOTER_POINTS * 0.6))  # characters of 6 pt text that fit
    lines: list[str] = []
    for data in sources:
        machine = data.get("machine", {})
        versions = ", ".join(f"{k} {v}" for k, v in sorted(data.get("versions", {}).items()))
        line = (f"{data.get('benchmark')}: {data.get('date')}, {machine.get('cpus', '?')} CPUs, "
                f"Python {machine.get('python', '?')}" + (f"; {versions}" if versions else ""))
        lines += textwrap.wrap(line, width, subsequent_indent="    ")
    return lines


def footer_space(figure: plt.Figure, sources: list[dict[str, Any]]) -> float:
    """The fraction of the figure's height the footer needs (for ``tight_layout(rect=(0, this, 1, 1))``)."""
    lines = len(footer_lines(figure, sources))
    return (lines * FOOTER_POINTS * 1.3 + 14) / (figure.get_figheight() * 72)


def footer(figure: plt.Figure, sources: list[dict[str, Any]]) -> None:
    """Machine, versions and dates of the results drawn."""
    figure.text(0.01, 0.01, "\n".join(footer_lines(figure, sources)), fontsize=FOOTER_POINTS, va="bottom",
                ha="left", color="#555555")


def time_vs_peers() -> list[dict[str, Any]]:
    """Bars: median time / curl's median, at the largest size of each bench (and each latency)."""
    groups: list[tuple[str, list[tuple[str, float]]]] = []
    used = []
    for name, title in BENCHES.items():
        data = load(name)
        if not data:
            continue
        used.append(data)
        rows = data["results"]
        for latency in sorted({r.get("latency_ms", 0) for r in rows}):
            at = [r for r in rows if r.get("latency_ms", 0) == latency]
            size = max(r["size_mib"] for r in at)
            bars = [(r["method"], r["time_vs_curl"]) for r in at if r["size_mib"] == size and "time_vs_curl" in r]
            label = f"{title}, {size:g} MiB" + (f", {latency} ms per request" if latency else "")
            groups.append((label, bars))
    if not groups:
        return []
    figure, axes = plt.subplots(len(groups), 1, figsize=(8, 1.6 + 1.1 * sum(len(b) for _, b in groups) / 2),
                                squeeze=False)
    for ax, (label, bars) in zip(axes[:, 0], groups, strict=True):
        names = [m for m, _ in bars]
        values = [v for _, v in bars]
        colors = ["#1f77b4" if m.startswith("chunkup") else "#999999" for m in names]
        ax.barh(names, values, color=colors)
        ax.axvline(1.0, color="black", linewidth=0.8)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:.2f}", va="center", fontsize=8)
        ax.set_title(label, fontsize=9, loc="left")
        ax.invert_yaxis()
        ax.tick_params(labelsize=8)
    axes[-1, 0].set_xlabel("median upload time relative to curl (lower is faster)")
    figure.tight_layout(rect=(0, footer_space(figure, used), 1, 1))
    footer(figure, used)
    figure.savefig(RESULTS / "time_vs_peers.png", dpi=110)
    plt.close(figure)
    return used


def rss_by_size() -> None:
    used, series = [], []
    for name, title in BENCHES.items():
        data = load(name)
        if not data or not data.get("rss_by_size"):
            continue
        used.append(data)
        methods = sorted({r["method"] for r in data["rss_by_size"]})
        for method in methods:
            points = sorted((r["size_mib"], r["peak_rss_mib"]) for r in data["rss_by_size"]
                            if r["method"] == method and r.get("peak_rss_mib"))
            series.append((f"{title}: {method}", points))
    if not series:
        return
    figure, ax = plt.subplots(figsize=(8, 5))
    for label, points in series:
        style = "-" if "chunkup" in label else "--"
        ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("file size (MiB)")
    ax.set_ylabel("peak RSS of the uploading process (MiB)")
    ax.set_title("Memory against file size", fontsize=10)
    ax.legend(fontsize=7)
    figure.tight_layout(rect=(0, footer_space(figure, used), 1, 1))
    footer(figure, used)
    figure.savefig(RESULTS / "rss_by_size.png", dpi=110)
    plt.close(figure)


def resume() -> None:
    used, bars = [], []
    for name, title in BENCHES.items():
        data = load(name)
        if not data or not data.get("resume"):
            continue
        used.append(data)
        for r in data["resume"]:
            bars.append((f"{title} {r['size_mib']:g} MiB: {r['method']}", r["bytes_sent_again_mib"]))
    if not bars:
        return
    figure, ax = plt.subplots(figsize=(8, 1.5 + 0.35 * len(bars)))
    names = [b for b, _ in bars]
    values = [v for _, v in bars]
    ax.barh(names, values, color=["#1f77b4" if "chunkup" in n else "#999999" for n in names])
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.1f}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("MiB sent again after the process was killed half-way and restarted")
    ax.tick_params(labelsize=8)
    figure.tight_layout(rect=(0, footer_space(figure, used), 1, 1))
    footer(figure, used)
    figure.savefig(RESULTS / "resume.png", dpi=110)
    plt.close(figure)


def s3_overlap() -> None:
    runs = [(p, json.loads(p.read_text())) for p in sorted(RESULTS.glob("s3_source*.json"))]
    if not runs:
        return
    figure, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 4), squeeze=False)
    for ax, (_, data) in zip(axes[0], runs, strict=True):
        sizes = sorted({r["size_mib"] for r in data["results"]})
        for method, style in (("read only", ":"), ("send only", "--"), ("S3 -> X", "-")):
            points = [next(r["median_seconds"] for r in data["results"] if r["size_mib"] == s and r["method"] == method)
                      for s in sizes]
            ax.plot(sizes, points, style, marker="o", label=method)
        latency = data.get("send_latency_ms", 0)
        ax.set_title(f"S3 source, {latency} ms per sent chunk" if latency else "S3 source, loopback", fontsize=9)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("object size (MiB)")
        ax.set_ylabel("median seconds")
        ax.legend(fontsize=7)
    figure.tight_layout(rect=(0, footer_space(figure, [d for _, d in runs]), 1, 1))
    footer(figure, [d for _, d in runs])
    figure.savefig(RESULTS / "s3_overlap.png", dpi=110)
    plt.close(figure)


def cluster_fanout() -> None:
    """Bars: speedup (baseline median / median) of 2 workers, 4 appends, per workload and network condition."""
    data = load("cluster_fanout")
    if not data:
        return
    link = load("cluster_fanout_link")  # the same bench with a per-connection bandwidth on top of the latency
    rows = [{**r, "link": None} for r in data["results"] if r["method"] != r["baseline"]]
    if link:
        rate = link["settings"].get("link_mib_s_per_connection")
        rows += [{**r, "link": rate} for r in link["results"] if r["method"] != r["baseline"]]
    conditions = sorted({(r["latency_ms"], r["link"] or 0) for r in rows}, reverse=True)
    figure, axes = plt.subplots(1, len(conditions), figsize=(5 * len(conditions), 1.6 + 0.3 * len(rows) / 3),
                                squeeze=False, sharey=True)
    for ax, (latency, rate) in zip(axes[0], conditions, strict=True):
        at = [r for r in rows if (r["latency_ms"], r["link"] or 0) == (latency, rate)]
        names = [f"{r['workload']}, {r['method']}: {r['timing']}" for r in at]
        values = [r["speedup_vs_baseline"] for r in at]
        ax.barh(names, values, color=["#1f77b4" if r["timing"] == "whole run" else "#aec7e8" for r in at])
        ax.axvline(1.0, color="black", linewidth=0.8)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:.2f}x", va="center", fontsize=8)
        title = f"{latency} ms per request" if latency else "bare loopback"
        ax.set_title(title + (f" + {rate:g} MiB/s per connection" if rate else ""), fontsize=9, loc="left")
        ax.set_xlabel("speedup over 1 worker / 1 append (median time ratio)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.set_xlim(0, max(2.0, max(values) * 1.2))
    axes[0, 0].invert_yaxis()
    figure.suptitle(f"Airflow cluster ({data['machine'].get('cpus', '?')} CPUs): dark = whole DAG run, "
                    "light = span of the upload/append tasks", fontsize=9)
    figure.tight_layout(rect=(0, footer_space(figure, [data] + ([link] if link else [])), 1, 1))
    footer(figure, [data] + ([link] if link else []))
    figure.savefig(RESULTS / "cluster_fanout.png", dpi=110)
    plt.close(figure)


Row = dict[str, Any]


def hbars(ax: Any, labels: list[str], values: list[float], fmt: str, names: list[str]) -> None:
    """Horizontal bars, chunkup's in blue, each with its value."""
    ax.barh(labels, values, color=["#1f77b4" if n.startswith("chunkup") else "#999999" for n in names])
    for y, v in enumerate(values):
        ax.text(v, y, " " + fmt.format(v), va="center", fontsize=7)
    ax.invert_yaxis()
    ax.tick_params(labelsize=7)
    ax.set_xlim(0, max([*values, 1.0]) * 1.15)


def peer_chart(data: dict[str, Any], name: str, title: str, rows: list[Row], label: Callable[[Row], str],
               memory: list[tuple[str, float, str]], resumed: list[Row], resumed_label: Callable[[Row], str]) -> None:
    """Three panels against the peers: time / curl's, peak RSS above the idle process (``(label, MiB, method)``),
    MiB sent again after a kill; written to ``<name>.png``."""
    figure, (times, rss, again) = plt.subplots(
        3, 1, figsize=(8, 3 + 0.28 * (len(rows) + len(memory) + len(resumed))),
        gridspec_kw={"height_ratios": [len(rows), max(len(memory), 1), max(len(resumed), 1)]})
    hbars(times, [label(r) for r in rows], [r["time_vs_curl"] for r in rows], "{:.2f}", [r["method"] for r in rows])
    times.axvline(1.0, color="black", linewidth=0.8)
    times.set_title(f"{title}: median time relative to curl (lower is faster)", fontsize=9, loc="left")
    hbars(rss, [m[0] for m in memory], [max(m[1], 0.0) for m in memory], "{:.0f} MiB", [m[2] for m in memory])
    rss.set_title("peak RSS above the same program idle: the chunks it holds", fontsize=9, loc="left")
    if resumed:
        hbars(again, [resumed_label(r) for r in resumed], [r["bytes_sent_again_mib"] for r in resumed], "{:.1f} MiB",
              [r["method"] for r in resumed])
        again.set_title("killed half-way (SIGKILL) and run again: MiB sent again", fontsize=9, loc="left")
    else:
        again.set_visible(False)
    figure.tight_layout(rect=(0, footer_space(figure, [data]), 1, 1))
    footer(figure, [data])
    figure.savefig(RESULTS / f"{name}.png", dpi=110, bbox_inches="tight", pad_inches=0.1)  # long labels kept
    plt.close(figure)


def tus_upload() -> None:
    """tus and Vimeo against tuspy, PyVimeo and curl, per target."""
    data = load("tus_upload")
    if not data:
        return
    rows = data["results"]
    titles = {"tus": "tus", "vimeo": "Vimeo"}

    def label(r: Row) -> str:
        latency = f", {r['latency_ms']} ms/request" if r.get("latency_ms") else ""
        return f"{titles.get(r['target'], r['target'])}, {r['chunk_mib']:g} MiB{latency}: {r['method']}"

    chunks = " or ".join(f"{c:g}" for c in data.get("chunks_mib", []))
    memory = [(label(r), r.get("peak_rss_over_idle_mib") or 0.0, r["method"]) for r in rows if not r.get("latency_ms")]
    peer_chart(data, "tus_upload", f"{rows[0]['size_mib']:g} MiB file in {chunks} MiB chunks", rows, label, memory,
               data.get("resume", []), lambda r: f"{titles.get(r['target'], r['target'])}, {r['size_mib']:g} MiB: "
                                                 f"{r['method']} ({r['remote_uploads_created']} created)")


def youtube_upload() -> None:
    """YouTube (Google's resumable protocol) against google-api-python-client and curl."""
    data = load("youtube_upload")
    if not data:
        return
    rows, by_size = data["results"], data.get("rss_by_size", [])
    chunk = by_size[0]["chunk_mib"] if by_size else None  # the other chunk sizes: from the timed runs
    memory = [(f"{r['size_mib']:g} MiB file, {r['chunk_mib']:g} MiB chunks: {r['method']}", r["above_idle_mib"] or 0.0,
               r["method"]) for r in by_size]
    memory += [(f"{r['size_mib']:g} MiB file, {r['chunk_mib']:g} MiB chunks: {r['method']}",
                r.get("peak_rss_over_idle_mib") or 0.0, r["method"])
               for r in rows if not r.get("latency_ms") and r["chunk_mib"] != chunk]

    def label(r: Row) -> str:
        latency = f", {r['latency_ms']} ms/request" if r.get("latency_ms") else ""
        return f"{r['chunk_mib']:g} MiB chunks{latency}: {r['method']}"

    peer_chart(data, "youtube_upload", f"YouTube videos.insert, {rows[0]['size_mib']:g} MiB file", rows, label,
               memory, data.get("resume", []),
               lambda r: f"{r['size_mib']:g} MiB: {r['method']} ({r['remote_uploads_created']} sessions)")


def meta_upload() -> None:
    """Facebook video (Graph's windows) against facebook-business and curl."""
    data = load("meta_upload")
    if not data:
        return
    rows = data["results"]

    def label(r: Row) -> str:
        return f"{r['window_mib']:g} MiB windows: {r['method']}"

    memory = [(label(r), r.get("peak_rss_over_idle_mib") or 0.0, r["method"]) for r in rows]
    peer_chart(data, "meta_upload", f"Facebook video (ad account), {rows[0]['size_mib']:g} MiB file", rows, label,
               memory, data.get("resume", []),
               lambda r: f"{r['window_mib']:g} MiB windows: {r['method']} ({r['remote_uploads_created']} sessions)")


def wan_upload() -> None:
    """Over the emulated links (bench/netlink.py): each method's throughput as a fraction of the link's rate."""
    data = load("wan_upload")
    if not data:
        return
    rows = data["results"]
    profiles = {p["profile"]["name"]: p["profile"] for p in data.get("profiles", [])}

    def label(r: Row) -> str:
        p = profiles.get(r["profile"], {})
        link = (f"{p.get('rtt_ms', '?'):g} ms, {p.get('rate_mbit', '?'):g} Mbit/s, {p.get('loss', 0) * 100:g}% loss"
                if p else r["profile"])
        return f"{r['profile']} ({link}), {r['api']}: {r['method']}"

    figure, ax = plt.subplots(figsize=(8, 1.6 + 0.26 * len(rows)))
    hbars(ax, [label(r) for r in rows], [100 * (r["fraction_of_link"] or 0.0) for r in rows], "{:.0f}%",
          [r["method"] for r in rows])
    ax.set_xlim(0, 112)  # the link's rate (100%) in view
    ax.axvline(100, color="black", linewidth=0.8)
    ax.axvline(80, color="#1f77b4", linewidth=0.6, linestyle="--")
    ceiling = data.get("forwarder_ceiling", {}).get("mbit_per_s")
    ax.set_title(f"{data['size_mib']:g} MiB upload over an emulated link: throughput, % of the link's rate "
                 f"(median of {data['repeats']}; dashed: 80%)", fontsize=9, loc="left")
    ax.set_xlabel("% of the link's rate" + (f" (the forwarder alone passes {ceiling:.0f} Mbit/s)" if ceiling else ""),
                  fontsize=7)
    figure.tight_layout(rect=(0, footer_space(figure, [data]), 1, 1))
    footer(figure, [data])
    figure.savefig(RESULTS / "wan_upload.png", dpi=110, bbox_inches="tight", pad_inches=0.1)
    plt.close(figure)


CHARTS = {"time_vs_peers": time_vs_peers, "rss_by_size": rss_by_size, "resume": resume, "s3_overlap": s3_overlap,
          "cluster_fanout": cluster_fanout, "tus_upload": tus_upload, "youtube_upload": youtube_upload,
          "meta_upload": meta_upload, "wan_upload": wan_upload}


def main(names: list[str]) -> None:
    unknown = sorted(set(names) - set(CHARTS))
    if unknown:
        raise SystemExit(f"unknown chart(s) {', '.join(unknown)}; known: {', '.join(CHARTS)}")
    for name in names or CHARTS:
        CHARTS[name]()
    for png in sorted(RESULTS.glob("*.png")):
        print(f"written {png}")


if __name__ == "__main__":
    main(sys.argv[1:])
