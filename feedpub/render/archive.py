"""RFC 5005 archive documents (RSS 2.0 and Atom 1.0), written without feedgen.

A large site has thousands of archive documents, and each item appears in
several (the main feed's and its topics'). feedgen builds an lxml tree per
document and formats every item again for each (about 0.05 ms per item), and
its RSS output drops the ``prev-archive``, ``next-archive`` and ``current``
links RFC 5005 needs. So this module renders each item's RSS ``<item>`` and
Atom ``<entry>`` once, as the same bytes feedgen's pretty output has (same
elements, order, escaping and date formats), and joins the cached fragments
into pages. The subscription feeds stay on feedgen (``render/rss_atom.py``);
tests compare the two item by item.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from xml.sax.saxutils import escape

from feedpub.model import ArchiveSpec, Item
from feedpub.render.markup import html_body
from feedpub.render.rss_atom import GENERATOR

HISTORY_NS = "http://purl.org/syndication/history/1.0"
_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_RSS_DOCS = "http://www.rssboard.org/rss-specification"  # as feedgen writes it
_RSS_TYPE = "application/rss+xml"
_ATOM_TYPE = "application/atom+xml"
# lxml escapes these in attribute values; quoteattr would pick other quotes.
_ATTRIBUTE = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _attr(value: str) -> str:
    return '"' + escape(value, _ATTRIBUTE) + '"'


def rfc822(moment: dt.datetime) -> str:
    """An RFC 822 date as RSS wants it: English names whatever the locale."""
    return email.utils.format_datetime(moment)


class FragmentCache:
    """Each item's ``<item>`` and ``<entry>``, rendered once per build.

    Keyed by item id and time zone: within one build an id names one item.
    """

    def __init__(self) -> None:
        self._rss: dict[tuple[str, dt.tzinfo], bytes] = {}
        self._atom: dict[tuple[str, dt.tzinfo], bytes] = {}

    def rss(self, item: Item, zone: dt.tzinfo) -> bytes:
        """The item's RSS ``<item>`` element, indented for a channel."""
        found = self._rss.get((item.id, zone))
        if found is None:
            found = self._rss[(item.id, zone)] = _rss_item(item, zone)
        return found

    def atom(self, item: Item, zone: dt.tzinfo) -> bytes:
        """The item's Atom ``<entry>`` element, indented for a feed."""
        found = self._atom.get((item.id, zone))
        if found is None:
            found = self._atom[(item.id, zone)] = _atom_entry(item, zone)
        return found


def _rss_item(item: Item, zone: dt.tzinfo) -> bytes:
    # The element order of feedgen 1.0's rss_entry(), extensions last.
    lines = [
        "    <item>",
        f"      <title>{escape(item.title)}</title>",
        f"      <link>{escape(item.link)}</link>",
    ]
    if item.paragraphs:
        lines.append(f"      <description>{escape(html_body(item))}</description>")
    lines.append(f'      <guid isPermaLink="false">{escape(item.id)}</guid>')
    lines += [f"      <category>{escape(c.label)}</category>" for c in item.categories]
    lines.append(f"      <pubDate>{rfc822(item.published.astimezone(zone))}</pubDate>")
    if item.author:
        lines.append(f"      <dc:creator>{escape(item.author)}</dc:creator>")
    lines.append("    </item>\n")
    return "\n".join(lines).encode("utf-8")


def _atom_entry(item: Item, zone: dt.tzinfo) -> bytes:
    # The element order of feedgen 1.0's atom_entry().
    lines = [
        "  <entry>",
        f"    <id>{escape(item.id)}</id>",
        f"    <title>{escape(item.title)}</title>",
        f"    <updated>{item.modified.astimezone(zone).isoformat()}</updated>",
    ]
    if item.author:
        lines += [
            "    <author>",
            f"      <name>{escape(item.author)}</name>",
            "    </author>",
        ]
    if item.paragraphs:
        content = escape(html_body(item))
        lines.append(f'    <content type="html">{content}</content>')
    lines.append(f"    <link href={_attr(item.link)}/>")
    # An entry needs some text (validator: MissingTextualContent).
    summary = item.summary if item.paragraphs else item.title
    lines.append(f'    <summary type="text">{escape(summary)}</summary>')
    lines += [
        f"    <category term={_attr(c.term)} label={_attr(c.label)}/>"
        for c in item.categories
    ]
    lines.append(
        f"    <published>{item.published.astimezone(zone).isoformat()}</published>"
    )
    lines.append("  </entry>\n")
    return "\n".join(lines).encode("utf-8")


def _links(spec: ArchiveSpec, tag: str, media_type: str, indent: str) -> list[str]:
    """The RFC 5005 links: self, current, and the neighbouring archives."""
    links = [
        (spec.self_url, "self"),
        (spec.current_url, "current"),
        (spec.prev_url, "prev-archive"),
        (spec.next_url, "next-archive"),
    ]
    return [
        f'{indent}<{tag} href={_attr(href)} rel="{rel}" type="{media_type}"/>'
        for href, rel in links
        if href
    ]


def render_archive(spec: ArchiveSpec, cache: FragmentCache | None = None) -> bytes:
    """Render one archive document as RSS 2.0 or Atom 1.0.

    Both carry ``<fh:archive/>`` (RFC 5005 section 4) and the links ``self``,
    ``current`` and, where there are neighbours, ``prev-archive`` and
    ``next-archive``; RSS puts them in ``atom:link`` elements (RFC 5005
    appendix B). Items come newest first, as in the subscription feeds.

    Args:
        spec: the archive document.
        cache: fragments shared by the documents of one build.
    """
    cache = cache or FragmentCache()
    zone = spec.timezone
    updated = spec.updated.astimezone(zone)
    if spec.kind == "rss":
        head = [
            _DECLARATION
            + '<rss xmlns:dc="http://purl.org/dc/elements/1.1/"'
            + ' xmlns:atom="http://www.w3.org/2005/Atom"'
            + f' xmlns:fh="{HISTORY_NS}" version="2.0">',
            "  <channel>",
            f"    <title>{escape(spec.title)}</title>",
            f"    <link>{escape(spec.home_url)}</link>",
            f"    <description>{escape(spec.description)}</description>",
            *_links(spec, "atom:link", _RSS_TYPE, "    "),
            "    <fh:archive/>",
            f"    <docs>{_RSS_DOCS}</docs>",
            f"    <generator>{GENERATOR}</generator>",
            f"    <language>{escape(spec.language)}</language>",
            f"    <lastBuildDate>{rfc822(updated)}</lastBuildDate>",
            f"    <pubDate>{rfc822(updated)}</pubDate>\n",
        ]
        body = [cache.rss(item, zone) for item in spec.items]
        tail = "  </channel>\n</rss>\n"
    else:
        head = [
            _DECLARATION
            + '<feed xmlns="http://www.w3.org/2005/Atom"'
            + f' xmlns:fh="{HISTORY_NS}" xml:lang={_attr(spec.language)}>',
            f"  <id>{escape(spec.feed_id)}</id>",
            f"  <title>{escape(spec.title)}</title>",
            f"  <updated>{updated.isoformat()}</updated>",
            "  <author>",
            f"    <name>{escape(spec.author)}</name>",
            "  </author>",
            *_links(spec, "link", _ATOM_TYPE, "  ")[:1],
            f'  <link href={_attr(spec.home_url)} rel="alternate" type="text/html"/>',
            *_links(spec, "link", _ATOM_TYPE, "  ")[1:],
            "  <fh:archive/>",
            f"  <generator>{GENERATOR}</generator>",
            f"  <subtitle>{escape(spec.description)}</subtitle>\n",
        ]
        body = [cache.atom(item, zone) for item in spec.items]
        tail = "</feed>\n"
    return b"".join(["\n".join(head).encode("utf-8"), *body, tail.encode("utf-8")])
