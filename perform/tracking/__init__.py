"""Face tracking: MediaPipe face mesh to landmarks, an aligned crop and named features."""
