"""GCS objects as the front door keeps them: one per bucket and name, its latest generation."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..google_resumable.errors import GoogleError


def rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class StoredObject:
    """One object generation: its bytes on disk and what the JSON API shows."""

    bucket: str
    name: str
    generation: int
    path: Path
    size: int
    sha256: str
    md5: str
    crc32c: str
    content_type: str
    metadata: dict[str, str]
    created_at: float
    upload_id: str
    seq: int
    extra: dict[str, Any] = field(default_factory=dict)

    def resource(self, base: str) -> dict[str, Any]:
        quoted = quote(self.name, safe="")
        body: dict[str, Any] = {
            "kind": "storage#object", "id": f"{self.bucket}/{self.name}/{self.generation}",
            "selfLink": f"{base}/storage/v1/b/{self.bucket}/o/{quoted}",
            "mediaLink": f"{base}/download/storage/v1/b/{self.bucket}/o/{quoted}?generation={self.generation}"
                         "&alt=media",
            "name": self.name, "bucket": self.bucket, "generation": str(self.generation), "metageneration": "1",
            "contentType": self.content_type, "storageClass": "STANDARD", "size": str(self.size),
            "md5Hash": self.md5, "crc32c": self.crc32c, "etag": f"C{self.generation:x}"[-12:] + "EAE=",
            "timeCreated": rfc3339(self.created_at), "updated": rfc3339(self.created_at),
            "timeStorageClassUpdated": rfc3339(self.created_at),
        }  # fmt: skip
        if self.metadata:
            body["metadata"] = dict(self.metadata)
        return body

    def inspect(self, base: str) -> dict[str, Any]:
        return {"bucket": self.bucket, "name": self.name, "generation": self.generation, "size": self.size,
                "sha256": self.sha256, "md5Hash": self.md5, "crc32c": self.crc32c, "contentType": self.content_type,
                "metadata": self.metadata, "upload_id": self.upload_id, "resource": self.resource(base)}  # fmt: skip


class ObjectStore:
    """The latest generation of every object, by (bucket, name)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self._seq = itertools.count()
        self._last_generation = 0
        self.counts: dict[str, int] = {}

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def next_generation(self) -> int:
        """Microseconds since the epoch, as GCS's, always growing."""
        self._last_generation = max(self._last_generation + 1, int(time.time() * 1_000_000))
        return self._last_generation

    def check_precondition(self, bucket: str, name: str, if_generation_match: int | None) -> None:
        """``ifGenerationMatch``: 0 = only if absent; N = only if the live generation is N (412 otherwise)."""
        if if_generation_match is None:
            return
        current = self.objects.get((bucket, name))
        generation = current.generation if current else 0
        if generation != if_generation_match:
            raise GoogleError(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold "
                              f"(ifGenerationMatch={if_generation_match}; the object's generation is {generation}).",
                              )  # fmt: skip

    def put(self, obj: StoredObject) -> StoredObject:
        old = self.objects.get((obj.bucket, obj.name))
        if old is not None and old.path != obj.path:
            old.path.unlink(missing_ok=True)
        obj.seq = next(self._seq)
        self.objects[(obj.bucket, obj.name)] = obj
        self.count("gcs_objects_created")
        return obj

    def get(self, bucket: str, name: str) -> StoredObject:
        obj = self.objects.get((bucket, name))
        if obj is None:
            raise GoogleError.not_found(f"No such object: {bucket}/{name}")
        return obj

    def delete(self, bucket: str, name: str) -> None:
        obj = self.get(bucket, name)
        del self.objects[(bucket, name)]
        obj.path.unlink(missing_ok=True)
        self.count("gcs_objects_deleted")

    def forget_all(self) -> None:
        for obj in self.objects.values():
            obj.path.unlink(missing_ok=True)
        self.objects.clear()
        self.counts.clear()

    def newest_first(self) -> list[StoredObject]:
        return sorted(self.objects.values(), key=lambda o: o.seq, reverse=True)
