"""HTML pages (feed landing pages, yearly archive, embed pages) and the XSL
view of the feeds, with autoescaping Jinja2."""

from __future__ import annotations

import datetime as dt
import functools
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING

from feedpub.dates import local_time
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
        "skip": "Zum Inhalt springen",
        "subscribe": "Abonnieren:",
        "feed_url": "Feed-Adresse zum Kopieren",
        "embed": "zum Einbetten",
        "opml": "Alle Feeds als OPML-Liste für Feedreader",
        "all_items": "Alle Meldungen",
        "to_page": "Die Meldungen als Webseite",
        "older": "Ältere Meldungen im Archiv",
        "xsl_note": "Dies ist ein Newsfeed. Kopieren Sie seine Adresse in Ihren"
        " Feedreader, um neue Meldungen automatisch zu erhalten.",
    },
    "en": {
        "feeds": "Subscribe",
        "archive": "Archive",
        "empty": "No news yet.",
        "skip": "Skip to content",
        "subscribe": "Subscribe:",
        "feed_url": "Feed address to copy",
        "embed": "embed",
        "opml": "All feeds as an OPML list for feed readers",
        "all_items": "All news",
        "to_page": "The news as a web page",
        "older": "Older news in the archive",
        "xsl_note": "This is a news feed. Copy its address into your feed reader"
        " to get new items automatically.",
    },
}


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language.split("-")[0].casefold(), _WORDS["en"])


def relative_url(url: str, base_url: str, page_path: str) -> str:
    """Make a URL under ``base_url`` relative to the page, so the pages work
    wherever the output folder is served or opened; other URLs stay as they are."""
    if not base_url or not url.startswith(base_url):
        return url
    target, _, fragment = url[len(base_url) :].partition("#")
    start = posixpath.dirname(page_path) or "."
    relative = posixpath.relpath(target or ".", start)
    if target.endswith("/") and relative != ".":
        relative += "/"
    return relative + (f"#{fragment}" if fragment else "")


def render_page(page: PageSpec) -> bytes:
    """Render one page to UTF-8 bytes."""
    words = _words(page.language)
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


def render_embed_page(page: PageSpec) -> bytes:
    """Render a feed's iframe-able page: its newest items, no scripts.

    Links open in a new browsing context (``target="_blank"``, ``rel="noopener"``)
    so a click never replaces only the frame.
    """
    if page.feed is None:
        raise ValueError(f"embed page {page.path} needs its feed")
    text = (
        _environment()
        .get_template("embed.html.j2")
        .render(
            page=page,
            feed=page.feed,
            words=_words(page.language),
            local=lambda moment: local_time(moment, page.timezone),
        )
    )
    return text.encode("utf-8")


def render_stylesheet(language: str) -> bytes:
    """Render the XSL that shows any of the RSS or Atom feeds as a page."""
    text = _environment().get_template("feed.xsl.j2").render(words=_words(language))
    return text.encode("utf-8")


def _row(
    item: Item, zone: dt.tzinfo, href: Callable[[str], str]
) -> tuple[Item, str, str, str, str]:
    """What the page shows of an item beyond its fields, made in Python rather
    than with calls from the template, which cost more for every item."""
    moment = local_time(item.published, zone)
    labels = ", ".join(c.label for c in item.categories)
    return (
        item,
        href(item.link),
        moment.isoformat(),
        moment.strftime("%d.%m.%Y"),
        labels,
    )
