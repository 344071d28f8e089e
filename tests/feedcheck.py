"""Checks a published feed the way readers meet it.

Exact values are read with lxml (feedparser rewrites some text); feedparser and
lemon24's ``reader`` answer "does a real client accept this, with every item
and its date".
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
from lxml import etree
from reader import make_reader

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# RFC 822 as RSS 2.0 wants it: English day and month names, numeric zone.
RFC822 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{4} \d\d:\d\d:\d\d [+-]\d{4}"
)
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)")


def _text(parent: etree._Element, tag: str) -> str:
    found = parent.find(tag)
    assert found is not None, f"missing <{tag}> in <{parent.tag}>"
    assert (found.text or "").strip(), f"empty <{tag}> in <{parent.tag}>"
    assert found.text is not None
    return found.text


def check_rss(path: Path, self_url: str) -> list[dict[str, object]]:
    """Assert the RSS 2.0 elements feedpub promises; return the items' values."""
    data = path.read_bytes()
    assert data.startswith(b"<?xml"), "nothing may precede the XML declaration"
    root = etree.fromstring(data)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for tag in ("title", "link", "description", "language", "generator"):
        _text(channel, tag)
    assert _text(channel, "generator") == "feedpub"
    for tag in ("lastBuildDate", "pubDate"):
        assert RFC822.fullmatch(_text(channel, tag)), _text(channel, tag)
    selves = [ln for ln in channel.findall(f"{ATOM}link") if ln.get("rel") == "self"]
    assert [ln.get("href") for ln in selves] == [self_url]
    assert _text(channel, "link").startswith(("http://", "https://"))
    items = []
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid is not None
        assert guid.get("isPermaLink") == "false"
        pub = _text(item, "pubDate")
        assert RFC822.fullmatch(pub), pub
        link = _text(item, "link")
        assert link.startswith(("http://", "https://")), link
        description = item.find("description")
        items.append(
            {
                "id": guid.text,
                "title": _text(item, "title"),
                "link": link,
                "published": parsedate_to_datetime(pub),
                "description": None if description is None else description.text,
                "categories": [c.text for c in item.findall("category")],
                "author": item.findtext(f"{DC}creator"),
            }
        )
    ids = [i["id"] for i in items]
    assert len(set(ids)) == len(ids), "duplicate guids"
    published = [i["published"] for i in items]
    assert published == sorted(published, reverse=True), "items must be newest first"
    if items:
        assert parsedate_to_datetime(_text(channel, "lastBuildDate")) == published[0]
    return items


def check_atom(path: Path, self_url: str, language: str) -> list[dict[str, object]]:
    """Assert the Atom 1.0 elements feedpub promises; return the entries' values."""
    data = path.read_bytes()
    assert data.startswith(b"<?xml")
    root = etree.fromstring(data)
    assert root.tag == f"{ATOM}feed"
    assert root.get(XML_LANG) == language
    for tag in ("id", "title", "updated"):
        _text(root, f"{ATOM}{tag}")
    assert RFC3339.fullmatch(_text(root, f"{ATOM}updated"))
    links = {ln.get("rel"): ln.get("href") for ln in root.findall(f"{ATOM}link")}
    assert links.get("self") == self_url
    assert links.get("alternate", "").startswith(("http://", "https://"))
    author = root.find(f"{ATOM}author")
    assert author is not None
    _text(author, f"{ATOM}name")
    entries = []
    for entry in root.findall(f"{ATOM}entry"):
        for tag in ("published", "updated"):
            assert RFC3339.fullmatch(_text(entry, f"{ATOM}{tag}"))
        link = entry.find(f"{ATOM}link")
        assert link is not None
        assert link.get("href", "").startswith("http")
        content = entry.find(f"{ATOM}content")
        summary = entry.find(f"{ATOM}summary")
        if content is not None:
            assert content.get("type") == "html"
            assert content.text
        assert summary is not None, "an entry needs text"
        assert summary.text, "an entry needs text"
        entries.append(
            {
                "id": _text(entry, f"{ATOM}id"),
                "title": _text(entry, f"{ATOM}title"),
                "link": link.get("href"),
                "published": dt.datetime.fromisoformat(
                    _text(entry, f"{ATOM}published")
                ),
                "updated": dt.datetime.fromisoformat(_text(entry, f"{ATOM}updated")),
                "content": None if content is None else content.text,
                "summary": None if summary is None else summary.text,
                "categories": [
                    c.get("label") for c in entry.findall(f"{ATOM}category")
                ],
                "author": entry.findtext(f"{ATOM}author/{ATOM}name"),
            }
        )
    ids = [e["id"] for e in entries]
    assert len(set(ids)) == len(ids), "duplicate entry ids"
    updated = [e["updated"] for e in entries]
    assert len(set(updated)) == len(updated), "two entries share one <updated>"
    if entries:
        assert dt.datetime.fromisoformat(_text(root, f"{ATOM}updated")) == updated[0]
    return entries


def check_feedparser(path: Path, count: int) -> None:
    """feedparser reads the file without complaint, with every item dated."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == count
    for entry in parsed.entries:
        assert entry.get("published_parsed") is not None
        assert entry.get("id")
        assert entry.get("title")
        assert entry.get("link")


def check_reader(folder: Path, names: list[str], counts: dict[str, int]) -> None:
    """lemon24's reader updates every feed without error and stores all items."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reader = make_reader(":memory:", feed_root=str(folder))
        try:
            for name in names:
                reader.add_feed(f"file:{name}")
            reader.update_feeds()
            for name in names:
                feed = reader.get_feed(f"file:{name}")
                assert feed.last_exception is None, (name, feed.last_exception)
                assert feed.title
                entries = list(reader.get_entries(feed=feed))
                assert len(entries) == counts[name], name
                for entry in entries:
                    assert entry.published is not None, (name, entry.id)
                    assert entry.title
                    assert entry.link
        finally:
            reader.close()
