"""The emulator's weighted post length against values twitter-text (config v3) gives for the same texts."""

from __future__ import annotations

import pytest

from airflow_provider_chunkup.emulators.x.text import weighted_length


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("hello", 5),
        ("a" * 281, 281),
        ("😀", 2),
        ("👨\u200d👩\u200d👧", 2),  # a ZWJ family is one emoji
        ("🇯🇵", 2),
        ("1\ufe0f\u20e3", 2),
        ("©", 2),
        ("日本語", 6),
        ("é", 1),
        ("e\u0301", 1),  # NFC first
        ("a\r\nb", 3),  # CRLF counts as one line break
        ("see https://example.com/very/long/path ok", 30),
        ("example.com", 23),
        ("www.google.com", 23),
        ("x.tv", 23),
        ("http://localhost:8080/x", 23),
        ("https://127.0.0.1/x", 19),  # an IP is no t.co link
        ("https://a.b.c/d", 15),  # nor a made-up TLD
        ("see x.com.", 28),
        ("x.com, y.org", 48),
        ("v1.2.3 file.txt", 15),
        ("“quotes” — and … dashes", 24),  # … (U+2026) weighs 2
    ],
)
def test_weighted_length_matches_twitter_text(text, weight):
    assert weighted_length(text) == weight
