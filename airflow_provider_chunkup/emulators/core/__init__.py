"""What every emulated API shares: the app's context, storage, request bodies, stats, rate limits, faults, control."""
