"""Reports that measure the runtime: engine latency and quality side by side (``python -m benchmarks.latency``)."""
