"""Async triggers for deferrable chunkup sensors (run in the triggerer)."""
