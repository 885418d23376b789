"""Real-time threaded pipeline: latest-frame slots, stage timing, latency budget."""
