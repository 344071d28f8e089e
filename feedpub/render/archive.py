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
import functools
import re
from collections.abc import Callable
from xml.sax.saxutils import escape

from feedpub.dates import local_time
from feedpub.model import ArchiveSpec, Category, Item
from feedpub.render.rss_atom import GENERATOR

HISTORY_NS = "http://purl.org/syndication/history/1.0"
_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_RSS_DOCS = "http://www.rssboard.org/rss-specification"  # as feedgen writes it
_RSS_TYPE = "application/rss+xml"
_ATOM_TYPE = "application/atom+xml"
# lxml escapes these in attribute values; quoteattr would pick other quotes.
_ATTRIBUTE = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_ATTRIBUTE_MARKUP = re.compile('[&<>"\n\r\t]')  # short values: links, terms
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _text(value: str) -> str:
    """Escape character data as lxml does (``&``, ``<``, ``>``)."""
    # Most text has nothing to escape; three scans for a character cost
    # less than a regular expression's one.
    if "&" not in value and "<" not in value and ">" not in value:
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    """A double-quoted attribute value, escaped as lxml does."""
    if _ATTRIBUTE_MARKUP.search(value) is None:
        return f'"{value}"'
    return '"' + escape(value, _ATTRIBUTE) + '"'


def rfc822(moment: dt.datetime) -> str:
    """An RFC 822 date as RSS wants it: English names whatever the locale.

    The same text as ``email.utils.format_datetime`` (and feedgen), faster.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"naive datetime {moment!r} has no zone for RFC 822")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]}"
        f" {moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
        f" {sign}{hours:02d}{minutes:02d}"
    )


class FragmentCache:
    """Each item's ``<item>`` and ``<entry>``, rendered once per build.

    Keyed by item id and time zone: within one build an id names one item.
    Given ``uses`` (how often each item id will be asked for), an item's
    fragments are dropped after their last use, so a build that renders the
    archive documents of all feeds period by period holds only the items of
    the current period.
    """

    def __init__(
        self,
        uses: dict[str, int] | None = None,
        check: Callable[[str, list[tuple[str, bytes, bytes]]], None] | None = None,
    ) -> None:
        """``check`` is given the document being checked and the (item id,
        RSS, Atom) fragments made since the last ``check_new()``; it raises to
        stop the build (``validate.check_fragments``)."""
        self._fragments: dict[tuple[str, dt.tzinfo], tuple[bytes, bytes]] = {}
        self._uses = uses
        self._check = check
        self._unchecked: list[tuple[str, bytes, bytes]] = []
        # The document rendered last and its frame: its check needs the
        # frame again (``frame``).
        self._framed: tuple[ArchiveSpec, tuple[bytes, bytes]] | None = None

    def frame(self, spec: ArchiveSpec) -> tuple[bytes, bytes]:
        """``archive_frame(spec)``, worked out once for the document that
        was rendered last."""
        framed = self._framed
        if framed is not None and framed[0] is spec:
            return framed[1]
        found = archive_frame(spec)
        self._framed = (spec, found)
        return found

    def _get(self, item: Item, zone: dt.tzinfo) -> tuple[bytes, bytes]:
        key = (item.id, zone)
        found = self._fragments.get(key)
        if found is None:
            found = self._fragments[key] = _fragments(item, zone)
            if self._check is not None:
                self._unchecked.append((item.id, *found))
        if self._uses is not None:
            left = self._uses.get(item.id, 0) - 1
            self._uses[item.id] = left
            if left <= 0:
                del self._fragments[key]
        return found

    def check_new(self, where: str) -> None:
        """Check the fragments made since the last call, all at once, while
        checking the document ``where``."""
        if self._check is not None and self._unchecked:
            fragments, self._unchecked = self._unchecked, []
            self._check(where, fragments)

    def rss(self, item: Item, zone: dt.tzinfo) -> bytes:
        """The item's RSS ``<item>`` element, indented for a channel."""
        return self._get(item, zone)[0]

    def atom(self, item: Item, zone: dt.tzinfo) -> bytes:
        """The item's Atom ``<entry>`` element, indented for a feed."""
        return self._get(item, zone)[1]


def _fragments(item: Item, zone: dt.tzinfo) -> tuple[bytes, bytes]:
    """Both fragments of an item; the text is escaped once for both.

    An archive holds every item, so this is written for speed: the HTML of
    the text is escaped for XML in one pass per paragraph (``_body``), the
    lines of a topic are made once per topic, and each time is shown once.
    """
    title = _text(item.title)
    body = _body(item.paragraphs)
    author = _text(item.author) if item.author else ""
    link = item.link
    guid = _text(item.id)
    published = local_time(item.published, zone)
    stamp = published.isoformat()
    updated = (
        stamp if item.updated is None else local_time(item.updated, zone).isoformat()
    )
    lines = [_category_lines(c) for c in item.categories]
    summary = _text(item.summary) if body else title
    # The element order of feedgen 1.0's rss_entry(), extensions last.
    rss = [
        f"    <item>\n      <title>{title}</title>\n      <link>{_text(link)}</link>\n"
    ]
    if body:
        rss.append(f"      <description>{body}</description>\n")
    rss.append(f'      <guid isPermaLink="false">{guid}</guid>\n')
    rss += [rss_line for rss_line, _ in lines]
    rss.append(f"      <pubDate>{rfc822(published)}</pubDate>\n")
    if author:
        rss.append(f"      <dc:creator>{author}</dc:creator>\n")
    rss.append("    </item>\n")
    # The element order of feedgen 1.0's atom_entry(). An entry needs some
    # text (validator: MissingTextualContent): the title, if nothing else.
    atom = [
        f"  <entry>\n    <id>{guid}</id>\n    <title>{title}</title>\n"
        f"    <updated>{updated}</updated>\n"
    ]
    if author:
        atom.append(f"    <author>\n      <name>{author}</name>\n    </author>\n")
    if body:
        atom.append(f'    <content type="html">{body}</content>\n')
    atom.append(f"    <link href={_attr(link)}/>\n")
    atom.append(f'    <summary type="text">{summary}</summary>\n')
    atom += [atom_line for _, atom_line in lines]
    atom.append(f"    <published>{stamp}</published>\n  </entry>\n")
    return "".join(rss).encode("utf-8"), "".join(atom).encode("utf-8")


def _body(paragraphs: tuple[str, ...]) -> str:
    """``_text(html_body(...))`` of the paragraphs, without the pass over the
    whole body: each paragraph's HTML text escaped for XML (``&`` is
    ``&amp;`` in HTML, so ``&amp;amp;`` here)."""
    return "\n".join([f"&lt;p&gt;{_text(_text(p))}&lt;/p&gt;" for p in paragraphs])


@functools.lru_cache(maxsize=1024)
def _category_lines(category: Category) -> tuple[str, str]:
    """A category's RSS ``<category>`` and Atom ``<category/>`` lines: the
    same for every item of its topic."""
    return (
        f"      <category>{_text(category.label)}</category>\n",
        f"    <category term={_attr(category.term)} label={_attr(category.label)}/>\n",
    )


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
    head, tail = cache.frame(spec)
    zone = spec.timezone
    take = cache.rss if spec.kind == "rss" else cache.atom
    return b"".join([head, *(take(item, zone) for item in spec.items), tail])


def archive_frame(spec: ArchiveSpec) -> tuple[bytes, bytes]:
    """An archive document without its items, as the bytes before and after
    them: ``render_archive`` puts the items' fragments, one after the other,
    between the two."""
    zone = spec.timezone
    updated = local_time(spec.updated, zone)
    if spec.kind == "rss":
        head = [
            _DECLARATION
            + '<rss xmlns:dc="http://purl.org/dc/elements/1.1/"'
            + ' xmlns:atom="http://www.w3.org/2005/Atom"'
            + f' xmlns:fh="{HISTORY_NS}" version="2.0">',
            "  <channel>",
            f"    <title>{_text(spec.title)}</title>",
            f"    <link>{_text(spec.home_url)}</link>",
            f"    <description>{_text(spec.description)}</description>",
            *_links(spec, "atom:link", _RSS_TYPE, "    "),
            "    <fh:archive/>",
            f"    <docs>{_RSS_DOCS}</docs>",
            f"    <generator>{GENERATOR}</generator>",
            f"    <language>{_text(spec.language)}</language>",
            f"    <lastBuildDate>{rfc822(updated)}</lastBuildDate>",
            f"    <pubDate>{rfc822(updated)}</pubDate>\n",
        ]
        tail = "  </channel>\n</rss>\n"
    else:
        head = [
            _DECLARATION
            + '<feed xmlns="http://www.w3.org/2005/Atom"'
            + f' xmlns:fh="{HISTORY_NS}" xml:lang={_attr(spec.language)}>',
            f"  <id>{_text(spec.feed_id)}</id>",
            f"  <title>{_text(spec.title)}</title>",
            f"  <updated>{updated.isoformat()}</updated>",
            "  <author>",
            f"    <name>{_text(spec.author)}</name>",
            "  </author>",
            *_links(spec, "link", _ATOM_TYPE, "  ")[:1],
            f'  <link href={_attr(spec.home_url)} rel="alternate" type="text/html"/>',
            *_links(spec, "link", _ATOM_TYPE, "  ")[1:],
            "  <fh:archive/>",
            f"  <generator>{GENERATOR}</generator>",
            f"  <subtitle>{_text(spec.description)}</subtitle>\n",
        ]
        tail = "</feed>\n"
    return "\n".join(head).encode("utf-8"), tail.encode("utf-8")
