"""The unstable-equilibrium recipe: two generators trained with no data, their trajectory kept for playback."""
