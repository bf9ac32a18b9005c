"""Speaking first: order changes in, warnings out, promises kept."""
