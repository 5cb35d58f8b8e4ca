"""The waits platforms announce: Retry-After (seconds or a date), X's and Vimeo's rate-limit reset headers."""

import pytest

from airflow_provider_chunkup.protocols.retry import announced_wait

NOW = 1_900_000_000.0


@pytest.mark.parametrize("headers, wait", [
    ({"retry-after": "7"}, 7.0),
    ({"retry-after": "Sun, 17 Mar 2030 17:48:00 GMT"}, 80.0),
    ({"x-rate-limit-reset": str(NOW + 30)}, 30.0),
    ({"x-ratelimit-reset": str(NOW + 12)}, 12.0),  # Vimeo, as Unix seconds
    ({"x-ratelimit-reset": "2030-03-17T17:47:00+00:00"}, 1_900_000_020.0 - NOW),  # Vimeo, as ISO 8601
    ({"x-ratelimit-reset": "2030-03-17T17:47:00Z"}, 20.0),
    ({"x-ratelimit-reset": "2030-03-17T17:47:00"}, 20.0),  # no zone: UTC
    ({"x-ratelimit-reset": "2000-01-01T00:00:00+00:00"}, 0.0),  # past: no wait
    ({"x-ratelimit-reset": "soon"}, None),
    ({}, None),
])
def test_announced_wait(headers, wait):
    got = announced_wait(headers, now=NOW)
    assert got == (pytest.approx(wait) if wait is not None else None)
