"""feedpub: RSS and Atom feeds, main and per topic, from plain dated news text."""

from __future__ import annotations

import logging

from feedpub.build import BuildResult, build, compile_items, compile_site
from feedpub.config import Config, load_config
from feedpub.errors import (
    ConfigError,
    FeedpubError,
    PublishError,
    RenderError,
    ServeError,
    SourceError,
)
from feedpub.model import Diagnostic, FeedSpec, Item, RawItem, Topic

__version__ = "0.1.0"
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

logging.getLogger(__name__).addHandler(logging.NullHandler())
