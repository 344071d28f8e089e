"""Static files published as they are, read from the package (no templating)."""

from __future__ import annotations

from importlib.resources import files


def embed_script() -> bytes:
    """The dependency-free ``embed.js`` that shows a JSON Feed in any page."""
    return files("feedpub").joinpath("static", "embed.js").read_bytes()
