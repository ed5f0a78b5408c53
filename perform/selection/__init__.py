"""Choosing among a training run's snapshots by weighted metrics, and searching recipe parameters."""
