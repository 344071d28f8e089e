"""RSS 2.0 and Atom 1.0 through feedgen: the only module that imports it.

feedgen 1.0.0 quirks handled here: ``add_entry()`` prepends unless told to
append; every ``updated`` defaults to *now*; the RSS channel ``<link>`` is the
last ``link()`` given; RSS authors need an e-mail address (bylines go to
``dc:creator`` instead); its own ``<generator>`` names feedgen's version; an
Atom entry link loses its ``rel`` and ``type`` (harmless: alternate is the default);
there is no API for ``<?xml-stylesheet?>``, so it is put into the bytes here;
RSS output keeps only the ``rel="self"`` atom link, so RFC 5005's
``prev-archive`` link is put into the bytes too (Atom keeps it).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

from feedpub.dates import local_time
from feedpub.errors import RenderError
from feedpub.model import FeedSpec
from feedpub.render.markup import html_body

GENERATOR = "feedpub"
_DECLARATION_END = b"?>\n"
_RSS_SELF_END = b' rel="self" type="application/rss+xml"/>\n'


def with_stylesheet(data: bytes, href: str) -> bytes:
    """Insert ``<?xml-stylesheet?>`` right after the XML declaration.

    Raises:
        RenderError: the document does not start with an XML declaration.
    """
    end = data.find(_DECLARATION_END)
    if not data.startswith(b"<?xml ") or end < 0:
        raise RenderError("expected an XML declaration to put the stylesheet after")
    # The pseudo-attributes of a processing instruction are quoted like
    # attributes (XML Stylesheet PI 1.0, section 2).
    instruction = f'<?xml-stylesheet type="text/xsl" href={quoteattr(href)}?>\n'
    cut = end + len(_DECLARATION_END)
    return data[:cut] + instruction.encode("utf-8") + data[cut:]


def with_prev_archive(data: bytes, href: str) -> bytes:
    """Insert ``<atom:link rel="prev-archive">`` after the channel's self link.

    Raises:
        RenderError: the document has no self link to put it after.
    """
    # The channel's head comes before any item, and text cannot hold "/>"
    # (">" is escaped in it), so the first match is the self link element.
    end = data.find(_RSS_SELF_END)
    if end < 0:
        raise RenderError('expected an <atom:link rel="self"> to put the archive after')
    cut = end + len(_RSS_SELF_END)
    link = (
        f'    <atom:link href={quoteattr(href)} rel="prev-archive"'
        ' type="application/rss+xml"/>\n'
    )
    return data[:cut] + link.encode("utf-8") + data[cut:]


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
    fg.updated(local_time(spec.updated, spec.timezone))
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
        fg.pubDate(local_time(spec.updated, spec.timezone))
        for item in spec.items:
            entry = fg.add_entry(order="append")
            entry.title(item.title)
            entry.link(href=item.link)
            entry.guid(item.id, permalink=False)
            entry.pubDate(local_time(item.published, spec.timezone))
            if item.paragraphs:
                entry.description(html_body(item))
            if item.author:
                entry.dc.dc_creator(item.author)
            for category in item.categories:
                entry.category(term=category.label)
        data: bytes = fg.rss_str(pretty=True)
    except ValueError as e:
        raise RenderError(f"cannot render {spec.rss_url}: {e}") from e
    if spec.rss_archive_url:
        data = with_prev_archive(data, spec.rss_archive_url)
    return with_stylesheet(data, spec.stylesheet) if spec.stylesheet else data


def render_atom(spec: FeedSpec) -> bytes:
    """Render one feed as Atom 1.0.

    Raises:
        RenderError: feedgen or lxml refused the data.
    """
    try:
        fg = _feed(spec, spec.atom_url, "application/atom+xml")
        if spec.atom_archive_url:  # RFC 5005: the newest archive document
            fg.link(
                href=spec.atom_archive_url,
                rel="prev-archive",
                type="application/atom+xml",
            )
        for item in spec.items:
            moment = local_time(item.published, spec.timezone)
            entry = fg.add_entry(order="append")
            entry.id(item.id)
            entry.title(item.title)
            entry.link(href=item.link, rel="alternate", type="text/html")
            entry.published(moment)
            entry.updated(local_time(item.modified, spec.timezone))
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
    return with_stylesheet(data, spec.stylesheet) if spec.stylesheet else data
