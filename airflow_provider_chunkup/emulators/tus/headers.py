"""tus 1.0.0 on the wire: header names, and the parsing of ``Upload-Metadata``, ``Upload-Checksum`` and
``Upload-Concat``, whatever front door (the generic server, Vimeo's upload links, Cloudflare's creation)
the request came through.

Source: ``tus/tus-resumable-upload-protocol`` ``protocol.md`` (``/work/shared/api/tus-vimeo-cloudflare.md``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

TUS_VERSION = "1.0.0"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
#: 460 is the checksum extension's own status ("Checksum Mismatch").
CHECKSUM_MISMATCH = 460
HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}


class TusError(Exception):
    """A request the server refuses: its status, a plain-text reason and headers of its own."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Checksum:
    """``Upload-Checksum: <algorithm> <base64 digest>``."""

    algorithm: str
    digest: bytes

    def hasher(self) -> Any:
        return HASHES[self.algorithm]()


def parse_count(value: str | None, header: str) -> int | None:
    """A non-negative integer header (``Upload-Length``, ``Upload-Offset``); None when absent."""
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit():
        raise TusError(400, f"{header} must be a non-negative integer, got {value!r}")
    return int(text)


def parse_metadata(value: str) -> dict[str, bytes | None]:
    """``key b64,key2 b64,flag``: keys unique and free of spaces and commas, values base64 (None: a key alone).

    An empty header is valid (no pairs); the caller counts it, since some servers refuse it.
    """
    pairs: dict[str, bytes | None] = {}
    if not value.strip():
        return pairs
    for item in value.split(","):
        parts = item.strip().split(" ")
        key = parts[0]
        if not key or len(parts) > 2:
            raise TusError(400, f"Upload-Metadata: malformed pair {item.strip()!r} (expected 'key base64value')")
        if key in pairs:
            raise TusError(400, f"Upload-Metadata: key {key!r} appears twice (keys must be unique)")
        if len(parts) == 1 or parts[1] == "":
            pairs[key] = None
            continue
        try:
            pairs[key] = base64.b64decode(parts[1], validate=True)
        except binascii.Error:
            raise TusError(400, f"Upload-Metadata: the value of {key!r} is not base64") from None
    return pairs


def metadata_json(pairs: dict[str, bytes | None]) -> dict[str, str | None]:
    """Decoded values as text (UTF-8, undecodable bytes replaced); a key without value is null."""
    return {key: None if value is None else value.decode("utf-8", "replace") for key, value in pairs.items()}


def parse_checksum(value: str, algorithms: list[str]) -> Checksum:
    """The header, for an algorithm among ``algorithms`` (400 otherwise, as the checksum extension says)."""
    parts = value.strip().split(" ")
    if len(parts) != 2 or not parts[0]:
        raise TusError(400, "Upload-Checksum must be '<algorithm> <base64 digest>'")
    algorithm = parts[0].lower()
    if algorithm not in algorithms:
        raise TusError(400, f"Upload-Checksum: unsupported algorithm {parts[0]!r}; supported: {','.join(algorithms)}")
    try:
        digest = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise TusError(400, "Upload-Checksum: the digest is not base64") from None
    return Checksum(algorithm, digest)


def parse_concat(value: str) -> tuple[str, list[str]]:
    """``partial`` -> ("partial", []); ``final;<url> <url>`` -> ("final", [urls])."""
    text = value.strip()
    if text == "partial":
        return "partial", []
    if text.startswith("final;"):
        urls = text[len("final;"):].split()
        if not urls:
            raise TusError(400, "Upload-Concat: final names no partial upload")
        return "final", urls
    raise TusError(400, f"Upload-Concat must be 'partial' or 'final;<url> <url>...', got {value!r}")


def http_date(timestamp: float) -> str:
    """``Upload-Expires``: an RFC 9110 date."""
    return formatdate(timestamp, usegmt=True)
