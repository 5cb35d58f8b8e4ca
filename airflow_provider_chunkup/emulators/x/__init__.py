"""The X emulator: media upload v2 and v1.1, posts, alt text and subtitles."""
