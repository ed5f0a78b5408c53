"""Rendering with moderngl: context (window or headless EGL), shader chain, outputs. Never imports torch."""
