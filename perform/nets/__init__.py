"""Networks: VAE-GAN, the data-free pair, checkpoints (safetensors + JSON model card)."""
