"""Fixtures of the cluster tests: the running cluster (``bash .ci/cluster up``), files on its shared disk."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).parent))  # after tests/: `conftest` must stay the root one

from cluster_client import Cluster

MiB = 1024 * 1024


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    yield c
    c.close()


@pytest.fixture
def shared_file(cluster: Cluster, tmp_path_factory) -> Callable[[int], tuple[Path, str]]:
    """A file of ``size`` random bytes on the disk every component sees (a shared volume); returns it and its
    sha256. Written in 8 MiB pieces."""
    directory = cluster.dir / "shared"
    directory.mkdir(exist_ok=True)
    made: list[Path] = []

    def make(size: int, name: str | None = None) -> tuple[Path, str]:
        path = directory / (name or f"{os.urandom(6).hex()}.mp4")
        digest = hashlib.sha256()
        with path.open("wb") as f:
            left = size
            while left:
                piece = os.urandom(min(left, 8 * MiB))
                digest.update(piece)
                f.write(piece)
                left -= len(piece)
        made.append(path)
        return path, digest.hexdigest()

    yield make
    for path in made:
        path.unlink(missing_ok=True)
