"""RSS 2.0 and Atom 1.0 through feedgen: the only module that imports it.

feedgen 1.0.0 quirks handled here: ``add_entry()`` prepends unless told to
append; every ``updated`` defaults to *now*; the RSS channel ``<link>`` is the
last ``link()`` given; RSS authors need an e-mail address (bylines go to
``dc:creator`` instead); its own ``<generator>`` names feedgen's version; an
Atom entry link loses its ``rel`` and ``type`` (harmless: alternate is the default).
"""

from __future__ import annotations

import html
from typing import Any

from feedpub.errors import RenderError
from feedpub.model import FeedSpec, Item

GENERATOR = "feedpub"


def html_body(item: Item) -> str:
    """The item's full text as escaped HTML paragraphs."""
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in item.paragraphs)


def _feed(spec: FeedSpec, self_url: str, self_type: str) -> Any:
    # Imported on first use (with lxml and dateutil behind it), so importing
    # feedpub stays cheap for work that renders no feed.
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(spec.title)
    fg.description(spec.description)  # RSS <description>, Atom <subtitle>
    fg.subtitle(spec.description)
    fg.language(spec.language)
    fg.author({"name": spec.author})
    fg.generator(GENERATOR)
    fg.updated(spec.updated.astimezone(spec.timezone))
    # The RSS channel <link> is taken from the last link() call: self first.
    fg.link(href=self_url, rel="self", type=self_type)
    fg.link(href=spec.home_url, rel="alternate", type="text/html")
    return fg


def render_rss(spec: FeedSpec) -> bytes:
    """Render one feed as RSS 2.0.

    Raises:
        RenderError: feedgen or lxml refused the data.
    """
    try:
        fg = _feed(spec, spec.rss_url, "application/rss+xml")
        fg.load_extension("dc", atom=False, rss=True)
        fg.pubDate(spec.updated.astimezone(spec.timezone))
        for item in spec.items:
            entry = fg.add_entry(order="append")
            entry.title(item.title)
            entry.link(href=item.link)
            entry.guid(item.id, permalink=False)
            entry.pubDate(item.published.astimezone(spec.timezone))
            if item.paragraphs:
                entry.description(html_body(item))
            if item.author:
                entry.dc.dc_creator(item.author)
            for category in item.categories:
                entry.category(term=category.label)
        data: bytes = fg.rss_str(pretty=True)
    except ValueError as e:
        raise RenderError(f"cannot render {spec.rss_url}: {e}") from e
    return data


def render_atom(spec: FeedSpec) -> bytes:
    """Render one feed as Atom 1.0.

    Raises:
        RenderError: feedgen or lxml refused the data.
    """
    try:
        fg = _feed(spec, spec.atom_url, "application/atom+xml")
        for item in spec.items:
            moment = item.published.astimezone(spec.timezone)
            entry = fg.add_entry(order="append")
            entry.id(item.id)
            entry.title(item.title)
            entry.link(href=item.link, rel="alternate", type="text/html")
            entry.published(moment)
            entry.updated(moment)
            if item.paragraphs:
                entry.summary(item.summary, type="text")
                entry.content(html_body(item), type="html")
            else:  # an entry needs some text (validator: MissingTextualContent)
                entry.summary(item.title, type="text")
            if item.author:
                entry.author({"name": item.author})
            for category in item.categories:
                entry.category(term=category.term, label=category.label)
        data: bytes = fg.atom_str(pretty=True)
    except ValueError as e:
        raise RenderError(f"cannot render {spec.atom_url}: {e}") from e
    return data
