"""The diverging fine-tune: a trained VAE-GAN pushed away from its data, its snapshots a playable trajectory."""
