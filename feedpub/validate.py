"""Checks every file must pass before it is published. Pure.

A build validates everything it rendered and publishes nothing if one file
fails: a bug or a hostile input can cost one cron run, never a broken feed.

* RSS 2.0 (``.xml`` with an ``<rss>`` root): well-formed; version 2.0; a
  channel with title, link, description and a ``rel="self"`` atom link; every
  item with a title or description, a guid that is unique in the feed, an
  RFC 822 ``pubDate``.
* Atom 1.0 (``.xml`` with a ``<feed>`` root): well-formed; id, title, updated,
  a self link, an author for the feed or for every entry; every entry with a
  unique id, a title, RFC 3339 ``updated`` (and ``published`` if given).
* HTML (``.html``): a UTF-8 ``<!DOCTYPE html>`` document whose element ids
  are unique (item links point to them).
* JSON Feed 1.1 (``.json``): the rules of ``render.jsonfeed.json_feed_problems``.
* OPML and XSL (``.opml``, ``.xsl``): well-formed XML.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable, Mapping

from lxml import etree

from feedpub.errors import ValidationError
from feedpub.render.jsonfeed import json_feed_problems

ATOM = "{http://www.w3.org/2005/Atom}"
_ELEMENT_ID = re.compile(rb"<[a-zA-Z][^<>]*?\sid=\"([^\"]*)\"")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def validate_outputs(outputs: Mapping[str, bytes]) -> None:
    """Check every output whose kind is known.

    Raises:
        ValidationError: listing each failing file with its problems.
    """
    problems: list[str] = []
    for name in sorted(outputs):
        check = _CHECKS.get(name.rpartition(".")[2])
        if check is None:
            continue
        problems += [f"{name}: {p}" for p in check(outputs[name])]
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ValidationError(
            f"refusing to publish: {len(problems)} problem(s) in the rendered"
            f" files:\n{shown}{more}"
        )


def xml_problems(data: bytes) -> list[str]:
    """Problems of an RSS or Atom document (other XML only has to be well-formed)."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        return [f"not well-formed XML: {e}"]
    if root.tag == "rss":
        return rss_problems(root)
    if root.tag == f"{ATOM}feed":
        return atom_problems(root)
    return []


def rss_problems(root: etree._Element) -> list[str]:
    """Problems of a parsed RSS 2.0 document."""
    problems: list[str] = []
    if root.get("version") != "2.0":
        problems.append('expected <rss version="2.0">')
    channel = root.find("channel")
    if channel is None:
        return [*problems, "missing <channel>"]
    for name in ("title", "link", "description"):
        if not (channel.findtext(name) or "").strip():
            problems.append(f"channel has no <{name}>")
    if not any(
        link.get("rel") == "self" and link.get("href")
        for link in channel.iter(f"{ATOM}link")
    ):
        problems.append('channel has no <atom:link rel="self">')
    seen: set[str] = set()
    for number, item in enumerate(channel.iter("item"), start=1):
        where = f"item {number}"
        if not (item.findtext("title") or item.findtext("description") or "").strip():
            problems.append(f"{where} has neither title nor description")
        guid = (item.findtext("guid") or "").strip()
        if not guid:
            problems.append(f"{where} has no <guid>")
        elif guid in seen:
            problems.append(f"{where}: duplicate guid {guid!r}")
        seen.add(guid)
        date = item.findtext("pubDate")
        if date is not None and not _rfc822(date):
            problems.append(f"{where}: pubDate {date!r} is not an RFC 822 date")
    return problems


def atom_problems(root: etree._Element) -> list[str]:
    """Problems of a parsed Atom 1.0 document."""
    problems: list[str] = []
    for name in ("id", "title", "updated"):
        if not (root.findtext(f"{ATOM}{name}") or "").strip():
            problems.append(f"feed has no <{name}>")
    if not _rfc3339(root.findtext(f"{ATOM}updated")):
        problems.append("feed <updated> is not an RFC 3339 date")
    if not any(link.get("rel") == "self" for link in root.findall(f"{ATOM}link")):
        problems.append('feed has no <link rel="self">')
    feed_author = root.find(f"{ATOM}author") is not None
    seen: set[str] = set()
    for number, entry in enumerate(root.findall(f"{ATOM}entry"), start=1):
        where = f"entry {number}"
        entry_id = (entry.findtext(f"{ATOM}id") or "").strip()
        if not entry_id:
            problems.append(f"{where} has no <id>")
        elif entry_id in seen:
            problems.append(f"{where}: duplicate id {entry_id!r}")
        seen.add(entry_id)
        if entry.find(f"{ATOM}title") is None:
            problems.append(f"{where} has no <title>")
        if not _rfc3339(entry.findtext(f"{ATOM}updated")):
            problems.append(f"{where}: <updated> missing or not RFC 3339")
        published = entry.findtext(f"{ATOM}published")
        if published is not None and not _rfc3339(published):
            problems.append(f"{where}: <published> is not RFC 3339")
        if not feed_author and entry.find(f"{ATOM}author") is None:
            problems.append(f"{where} has no author and the feed has none")
    return problems


def html_problems(data: bytes) -> list[str]:
    """Problems of an HTML page: doctype, encoding, unique element ids.

    The pages come from autoescaping templates with quoted attributes, so the
    ids are found with a pattern instead of a parse (a yearly page can hold
    thousands of items).
    """
    if not data.startswith(b"<!DOCTYPE html>"):
        return ["does not start with <!DOCTYPE html>"]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"not UTF-8: {e}"]
    seen: set[bytes] = set()
    problems: list[str] = []
    for element_id in _ELEMENT_ID.findall(data):
        if element_id in seen:
            problems.append(f"duplicate element id {element_id.decode()!r}")
        seen.add(element_id)
    return problems


def _rfc822(value: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(value).tzinfo is not None
    except (TypeError, ValueError):
        return False


def _rfc3339(value: str | None) -> bool:
    if not value or "T" not in value:
        return False
    try:
        return dt.datetime.fromisoformat(value.strip()).tzinfo is not None
    except ValueError:
        return False


_CHECKS: dict[str, Callable[[bytes], list[str]]] = {
    "xml": xml_problems,
    "opml": xml_problems,
    "xsl": xml_problems,
    "html": html_problems,
    "json": json_feed_problems,
}
