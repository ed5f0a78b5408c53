"""Network bending (Broad et al.): deterministic transforms inserted after generator layers, set per frame.

`table` (no torch: the setlist loader reads it) names the transforms and their parameters; `layers` the
bendable layers of a generator; `ops` the transforms themselves; `bent` the model wrapper with live
parameters; `clusters` the feature clusters stored in a model card.
"""
