"""HTML pages (feed landing pages, yearly archive) with autoescaping Jinja2."""

from __future__ import annotations

import datetime as dt
import functools
import os
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING

from feedpub.model import Item, PageSpec

if TYPE_CHECKING:
    import jinja2


@functools.cache
def _environment() -> jinja2.Environment:
    # Imported on first use: Jinja2 is the slowest import of a build, and
    # importing feedpub should stay cheap for work that renders no page.
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("feedpub", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


_WORDS = {
    "de": {
        "feeds": "Feeds abonnieren",
        "archive": "Archiv",
        "empty": "Noch keine Meldungen.",
    },
    "en": {"feeds": "Subscribe", "archive": "Archive", "empty": "No news yet."},
}


def relative_url(url: str, base_url: str, page_path: str) -> str:
    """Make a URL under ``base_url`` relative to the page, so the pages work
    wherever the output folder is served or opened; other URLs stay as they are."""
    if not base_url or not url.startswith(base_url):
        return url
    target, _, fragment = url[len(base_url) :].partition("#")
    start = posixpath.dirname(page_path) or "."
    relative = _relpath(target or ".", start, os.getcwd())
    if target.endswith("/") and relative != ".":
        relative += "/"
    return relative + (f"#{fragment}" if fragment else "")


@functools.lru_cache(maxsize=4096)
def _relpath(target: str, start: str, cwd: str) -> str:
    """``posixpath.relpath``, remembered: every page links the same feeds and
    archive years. It reads the working directory (for a path that climbs
    with ``..``), hence ``cwd`` in the key."""
    return posixpath.relpath(target, start)


def render_page(page: PageSpec) -> bytes:
    """Render one page to UTF-8 bytes."""
    words = _WORDS.get(page.language.split("-")[0].casefold(), _WORDS["en"])
    # The page's own feed first; compared by key, not by (large) value.
    own = page.feed.key if page.feed else None
    discovery = [page.feed] if page.feed else []
    discovery += [f for f in page.feeds if f.key != own]
    # An archive page links every item to one of a few targets: relpath() once
    # per target, not once per item.
    targets: dict[str, str] = {}

    def href(url: str) -> str:
        target, _, fragment = url.partition("#")
        if not page.base_url or not target.startswith(page.base_url):
            return url
        relative = targets.get(target)
        if relative is None:
            relative = relative_url(target, page.base_url, page.path)
            targets[target] = relative
        return relative + (f"#{fragment}" if fragment else "")

    text = (
        _environment()
        .get_template("page.html.j2")
        .render(
            page=page,
            words=words,
            discovery=discovery,
            rows=[_row(item, page.timezone, href) for item in page.items],
            href=href,
        )
    )
    return text.encode("utf-8")


def _row(
    item: Item, zone: dt.tzinfo, href: Callable[[str], str]
) -> tuple[Item, str, str, str, str]:
    """What the page shows of an item beyond its fields, made in Python rather
    than with calls from the template, which cost more for every item."""
    moment = item.published.astimezone(zone)
    labels = ", ".join(c.label for c in item.categories)
    return (
        item,
        href(item.link),
        moment.isoformat(),
        moment.strftime("%d.%m.%Y"),
        labels,
    )
