"""Mappings: control inputs and face features to latent coordinates and shader parameters."""
