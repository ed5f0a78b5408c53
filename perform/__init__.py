"""perform: a live audiovisual performance instrument."""

__version__ = "0.1.0"
