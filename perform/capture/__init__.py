"""Face datasets from a camera, videos or images: aligned crops, manifest, contact sheet (`perform capture`)."""
