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
    relative = _relative(target, posixpath.dirname(page_path) or ".")
    return relative + (f"#{fragment}" if fragment else "")


@functools.lru_cache(maxsize=4096)
def _relative(target: str, start: str) -> str:
    """``target`` relative to the folder ``start``: a page links each of its
    items to one of a few yearly pages, and every page of a folder the same
    feeds; ``relpath`` is slow."""
    relative = posixpath.relpath(target or ".", start)
    if target.endswith("/") and relative != ".":
        relative += "/"
    return relative


def render_page(page: PageSpec) -> bytes:
    """Render one page to UTF-8 bytes."""
    words = _words(page.language)
    # The page's own feed first; compared by key, not by (large) value.
    own = page.feed.key if page.feed else None
    discovery = [page.feed] if page.feed else []
    discovery += [f for f in page.feeds if f.key != own]
    href = functools.partial(relative_url, base_url=page.base_url, page_path=page.path)

    # The items go in as bytes, each on its own, between the bytes before
    # and after them: a yearly page is megabytes, and one string of them all
    # would be held in up to four bytes a character, and copied again.
    articles = [
        _article(item, page.timezone, href, page.full_text).encode("utf-8")
        for item in page.items
    ]
    text = (
        _environment()
        .get_template("page.html.j2")
        .render(
            page=page,
            words=words,
            discovery=discovery,
            articles=_safe(_ARTICLES),
            href=href,
        )
    )
    head, _, tail = text.partition(_ARTICLES)
    return b"".join([head.encode("utf-8"), *articles, tail.encode("utf-8")])


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


# Where a page's items go: markup that no escaped text can hold.
_ARTICLES = "<feedpub-articles/>"


def _html(value: str) -> str:
    """Escape text for HTML as the template's autoescaping does."""
    # Most text has nothing to escape (see archive._text).
    if (
        "&" not in value
        and "<" not in value
        and ">" not in value
        and "'" not in value
        and '"' not in value
    ):
        return value
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def _safe(markup: str) -> object:
    """``markup`` as HTML the template puts in as it is (not escaped again)."""
    import markupsafe  # Jinja2's; loaded with it, only when a page renders

    return markupsafe.Markup(markup)


def _article(
    item: Item, zone: dt.tzinfo, href: Callable[[str], str], full_text: bool
) -> str:
    """An item of a page as an ``<article>``, escaped as the template escapes.

    Made here rather than in the template: a yearly page shows thousands of
    items, and the template's loop, attribute lookups and escaping cost
    several times this for each (about 20 µs an item).
    """
    moment = local_time(item.published, zone)
    meta = f"{moment.day:02d}.{moment.month:02d}.{moment.year:04d}</time>"
    if item.author:
        meta += f" · {_html(item.author)}"
    if item.categories:
        meta += " · " + _html(", ".join(c.label for c in item.categories))
    if full_text:
        text = "".join(f"<p>{_html(p)}</p>\n" for p in item.paragraphs)
    else:
        text = f"<p>{_html(item.summary)}</p>\n" if item.summary else ""
    return (
        f'<article id="{_html(item.anchor)}">\n'
        f'<h2><a href="{_html(href(item.link))}">{_html(item.title)}</a></h2>\n'
        f'<p class="meta"><time datetime="{moment.isoformat()}">{meta}</p>\n'
        f"{text}</article>\n"
    )
