"""Frame sources: camera, video file, synthetic (a camera with no hardware)."""
