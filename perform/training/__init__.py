"""Training loops, datasets, metrics."""
