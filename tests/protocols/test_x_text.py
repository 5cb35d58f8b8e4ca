"""X's weighted post length: the counts of X's own twitter-text (v3 configuration), never above them."""

import pytest

from airflow_provider_chunkup.protocols.x_text import URL_LENGTH, weighted_length

# (text, what twitter-text's parse_tweet counts): measured with twitter-text's Python port on these texts.
TWITTER_TEXT = [
    ("hello", 5),
    ("a" * 280, 280),
    ("日本語のテキスト", 16),
    ("😀", 2),
    ("👨\u200d👩\u200d👧\u200d👦 family", 9),
    ("🇫🇷 flag", 7),
    ("1️⃣ keycap", 9),
    ("👍🏽 tone", 7),
    ("see https://example.com/a/very/long/path/that/goes/on/and/on?x=1 now", 31),
    ("http://a.co", 23),
    ("visit www.example.org/some/really/long/path/indeed today", 35),
    ("e.g. i.e. etc.", 14),
    ("Ünïcödé café", 12),
    ("—“quotes”…", 11),
    ("line1\r\nline2", 11),
    ("ÀÁÂ combining e\u0301", 15),
    ("\U0001d401\U0001d428\U0001d425\U0001d41d math", 13),  # mathematical bold: 2 each
    ("한국어", 6),
    ("ελληνικά кириллица", 18),
    ("Launch 🚀 video at https://t.co/abc #release @user", 57),
]


@pytest.mark.parametrize(("text", "expected"), TWITTER_TEXT)
def test_weighted_length_matches_twitter_text(text, expected):
    assert weighted_length(text) == expected


@pytest.mark.parametrize(("text", "x_counts"), [
    ("visit example.com today", 35),  # X links a bare domain (23); we count 11: X refuses first, never us
    ("©®™", 6),  # X may take these as emoji (2 each); we count their own weight
    ("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z", 51),
])
def test_never_counts_more_than_x(text, x_counts):
    assert weighted_length(text) <= x_counts


def test_a_long_link_counts_23_whatever_its_length():
    link = "https://example.com/" + "x" * 500
    assert weighted_length(link) == URL_LENGTH
    assert weighted_length(f"{link} {link}") == 2 * URL_LENGTH + 1


def test_nfc_normalisation_counts_a_composed_letter_once():
    assert weighted_length("e\u0301") == weighted_length("\u00e9") == 1
