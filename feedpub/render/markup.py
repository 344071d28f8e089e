"""Item text as HTML, shared by the feed formats that carry HTML content."""

from __future__ import annotations

import html

from feedpub.model import Item


def html_body(item: Item) -> str:
    """The item's full text as escaped HTML paragraphs."""
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in item.paragraphs)
