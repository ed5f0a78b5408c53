"""Video outputs beside the window: network stream, virtual camera, NDI, Spout, Syphon; one interface, never blocking."""
