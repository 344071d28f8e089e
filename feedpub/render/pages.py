"""HTML pages (feed landing pages, yearly archive) with autoescaping Jinja2."""

from __future__ import annotations

import datetime as dt
import posixpath

import jinja2

from feedpub.model import PageSpec

_ENV = jinja2.Environment(
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
    relative = posixpath.relpath(target or ".", start)
    if target.endswith("/") and relative != ".":
        relative += "/"
    return relative + (f"#{fragment}" if fragment else "")


def render_page(page: PageSpec) -> bytes:
    """Render one page to UTF-8 bytes."""
    words = _WORDS.get(page.language.split("-")[0].casefold(), _WORDS["en"])
    # The page's own feed first; compared by key, not by (large) value.
    own = page.feed.key if page.feed else None
    discovery = [page.feed] if page.feed else []
    discovery += [f for f in page.feeds if f.key != own]

    def local(moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(page.timezone)

    text = _ENV.get_template("page.html.j2").render(
        page=page,
        words=words,
        discovery=discovery,
        local=local,
        href=lambda url: relative_url(url, page.base_url, page.path),
    )
    return text.encode("utf-8")
