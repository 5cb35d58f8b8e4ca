"""The settings both Google front doors share: their resumable sessions' behaviour (part of each section)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.config import ApiConfig, ConfigPatchError

#: Every chunk but the last must be a multiple of this (Google's granularity).
ALIGN = 256 * 1024
#: A session's life when unfinished: GCS's "must be completed within a week".
WEEK_SECS = 7 * 24 * 3600


@dataclass
class ResumableConfig(ApiConfig):
    """Resumable-session behaviour of one Google front door (fields of its section)."""

    #: The section's name, for messages.
    section: ClassVar[str] = ""

    #: A misaligned middle chunk keeps only its 256 KiB-aligned prefix (Google's behaviour); false: kept whole.
    persist_partial: bool = True
    #: Fraction of middle chunks of which only part is persisted (the aligned half of the new bytes, maybe
    #: nothing), drawn from the fault injector's sequence: ``Range`` reports less than was sent.
    short_persist_rate: float = 0.0
    #: Fraction of 308 answers to a chunk sent without ``Range`` (the bytes are kept; a status query shows them).
    no_range_rate: float = 0.0
    #: Fraction of initiations and chunks answered **403** ``rateLimitExceeded`` (domain ``usageLimits``), which
    #: Google's clients retry with backoff; a refused chunk keeps nothing.
    rate_limit_403_rate: float = 0.0
    #: Lifetime of an unfinished session from its creation (404 after it).
    session_lifetime_secs: int = WEEK_SECS
    #: Largest upload a session takes (``X-Upload-Content-Length`` and the bytes).
    max_size: int = 1 << 38
    #: Status of the answer to the chunk that completes an upload (and of later status queries).
    completion_status: int = 200

    def validate(self) -> None:
        name = self.section
        tokens = getattr(self, "access_tokens", None)  # each section declares its own, with its default
        if not (isinstance(tokens, list) and all(isinstance(t, str) and t for t in tokens)):
            raise ConfigPatchError(f"{name}.access_tokens must be a list of non-empty strings")
        for field_name in ("short_persist_rate", "no_range_rate", "rate_limit_403_rate"):
            if not 0 <= getattr(self, field_name) <= 1:
                raise ConfigPatchError(f"{name}.{field_name} must be between 0 and 1")
        if not _positive_int(self.session_lifetime_secs):
            raise ConfigPatchError(f"{name}.session_lifetime_secs must be a positive integer")
        if not _positive_int(self.max_size):
            raise ConfigPatchError(f"{name}.max_size must be a positive integer")
        if self.completion_status not in (200, 201):
            raise ConfigPatchError(f"{name}.completion_status must be 200 or 201")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def positive_int(value: Any) -> bool:
    """A positive integer (not a bool)."""
    return _positive_int(value)
