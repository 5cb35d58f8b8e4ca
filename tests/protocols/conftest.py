"""The tus servers written by others (tests/tus_servers.py), as fixtures for the tests here."""

from tus_servers import tus_node, tus_resumable, tus_server  # noqa: F401 - fixtures
