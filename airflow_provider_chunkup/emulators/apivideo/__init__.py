"""The api.video emulator: videos, chunked source uploads, upload tokens, encoding."""
