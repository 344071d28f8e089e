"""Renderers: planned data -> bytes. Pure; one module per format."""
