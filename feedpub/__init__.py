"""feedpub: RSS and Atom feeds, main and per topic, from plain dated news text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feedpub.basics import Diagnostic, Topic
from feedpub.build import build
from feedpub.config import Config, load_config
from feedpub.errors import (
    ConfigError,
    FeedpubError,
    PublishError,
    RenderError,
    ServeError,
    SourceError,
)

if TYPE_CHECKING:
    from feedpub.model import FeedSpec, Item, RawItem
    from feedpub.site import BuildResult, compile_items, compile_site

__version__ = "0.1.0"
_PIPELINE = {"BuildResult", "compile_items", "compile_site"}
_MODEL = {"FeedSpec", "Item", "RawItem"}


def __getattr__(name: str) -> Any:
    """The pure pipeline is imported on first use: a cron run that finds
    nothing to do never loads it (see ``build.py``)."""
    if name in _PIPELINE:
        from feedpub import site

        return getattr(site, name)
    if name in _MODEL:
        from feedpub import model

        return getattr(model, name)
    raise AttributeError(f"module 'feedpub' has no attribute {name!r}")


__all__ = [
    "BuildResult",
    "Config",
    "ConfigError",
    "Diagnostic",
    "FeedSpec",
    "FeedpubError",
    "Item",
    "PublishError",
    "RawItem",
    "RenderError",
    "ServeError",
    "SourceError",
    "Topic",
    "__version__",
    "build",
    "compile_items",
    "compile_site",
    "load_config",
]
