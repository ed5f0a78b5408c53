"""Audio-reactive signals: level, bands, flux, onsets, beat phase and tempo, per video frame (live or from a file)."""
