"""Setlists: schema, loading and validation, hot reload, the scene scheduler."""
