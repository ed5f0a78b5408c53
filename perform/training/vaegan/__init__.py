"""The vaegan recipe: a face VAE-GAN trained on a capture folder, exported as a shippable model."""
