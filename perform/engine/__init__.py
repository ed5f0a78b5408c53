"""The pipeline, the live and fixed clocks, timing statistics."""
