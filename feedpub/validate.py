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

RFC 5005 archive documents are checked by their parts. Each is its frame (the
bytes before and after its items) with the items' ``<item>`` or ``<entry>``
fragments in between, and an item's fragments are the same bytes in every
document that shows it (``render/archive.py``). So a build checks each
fragment once: it must have the exact form feedpub writes, which makes it one
well-formed element that meets every rule above for an item, and hold its
item's id (``fragment_problems``). For each document it checks that it
starts and ends with its frame, the frame (every rule above, and it declares
the namespaces fragments use) and that its item ids are distinct
(``archive_problems``). Elements that are well-formed on their own, put into
a well-formed frame that declares their namespaces, make a well-formed
document, and every rule above then holds for it; a large site's archives
(about 1 GB) are not parsed again. The patterns of both forms are in
``forms.py``, which the writer process of a large build
(``feedpub/writer.py``) loads on its own, to run these checks while the
build renders on.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from lxml import etree

from feedpub import forms
from feedpub.errors import ValidationError
from feedpub.forms import (
    ELEMENT,
    NAMESPACES,
    RFC822_FORM,
    RFC3339_FORM,
    declarations,
    utf8,
)
from feedpub.render.jsonfeed import json_feed_problems

if TYPE_CHECKING:
    from feedpub.forms import Kind

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
    _refuse(problems)


def _refuse(problems: list[str]) -> None:
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
    return _root_problems(root)


def _root_problems(root: etree._Element) -> list[str]:
    if root.tag == "rss":
        return [] if _rss_fine(root) else rss_problems(root)
    if root.tag == f"{ATOM}feed":
        return [] if _atom_fine(root) else atom_problems(root)
    return []


# Whole-document checks with XPath: the same rules as rss_problems() and
# atom_problems(), answered without a Python loop over the items. Only a
# document that fails them is walked item by item, for the messages.
_NS = {"a": ATOM[1:-1]}
_RSS_ITEMS = etree.XPath("count(channel/item)")
_RSS_GUIDS = etree.XPath("channel/item/guid/text()")
_RSS_DATES = etree.XPath("channel/item/pubDate/text()")
_RSS_UNTITLED = etree.XPath(
    "count(channel/item[not(normalize-space(title))"
    " and not(normalize-space(description))])"
)
_ATOM_ENTRIES = etree.XPath("count(a:entry)", namespaces=_NS)
_ATOM_IDS = etree.XPath("a:entry/a:id/text()", namespaces=_NS)
_ATOM_UPDATED = etree.XPath("a:entry/a:updated/text()", namespaces=_NS)
_ATOM_PUBLISHED = etree.XPath("a:entry/a:published/text()", namespaces=_NS)
_ATOM_UNTITLED = etree.XPath("count(a:entry[not(a:title)])", namespaces=_NS)
_ATOM_NO_AUTHOR = etree.XPath("count(a:entry[not(a:author)])", namespaces=_NS)


def _texts(query: etree.XPath, root: etree._Element) -> list[str]:
    found = query(root)
    return [str(t) for t in found] if isinstance(found, list) else []


def _count(query: etree.XPath, root: etree._Element) -> int:
    found = query(root)
    return int(found) if isinstance(found, float | int) else -1


def _unique_texts(texts: list[str], count: int) -> bool:
    stripped = {t.strip() for t in texts}
    return len(texts) == count and len(stripped) == count and "" not in stripped


def _rss_fine(root: etree._Element) -> bool:
    channel = root.find("channel")
    if root.get("version") != "2.0" or channel is None:
        return False
    if not all(
        (channel.findtext(n) or "").strip() for n in ("title", "link", "description")
    ):
        return False
    if not any(
        link.get("rel") == "self" and link.get("href")
        for link in channel.iter(f"{ATOM}link")
    ):
        return False
    count = _count(_RSS_ITEMS, root)
    return (
        _unique_texts(_texts(_RSS_GUIDS, root), count)
        and _count(_RSS_UNTITLED, root) == 0
        and all(
            RFC822_FORM.fullmatch(d) or _rfc822(d) for d in _texts(_RSS_DATES, root)
        )
    )


def _atom_fine(root: etree._Element) -> bool:
    for name in ("id", "title"):
        if not (root.findtext(f"{ATOM}{name}") or "").strip():
            return False
    if not _rfc3339(root.findtext(f"{ATOM}updated")):
        return False
    if not any(link.get("rel") == "self" for link in root.findall(f"{ATOM}link")):
        return False
    count = _count(_ATOM_ENTRIES, root)
    updated = _texts(_ATOM_UPDATED, root)
    return (
        _unique_texts(_texts(_ATOM_IDS, root), count)
        and _count(_ATOM_UNTITLED, root) == 0
        and len(updated) == count
        and all(RFC3339_FORM.fullmatch(u.strip()) or _rfc3339(u) for u in updated)
        and all(
            RFC3339_FORM.fullmatch(p.strip()) or _rfc3339(p)
            for p in _texts(_ATOM_PUBLISHED, root)
        )
        and (
            root.find(f"{ATOM}author") is not None or _count(_ATOM_NO_AUTHOR, root) == 0
        )
    )


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


_FRAMES: dict[str, tuple[bytes, bytes]] = {
    "rss": (
        b"<rss" + declarations("rss") + b' version="2.0"><channel>'
        b"<title>t</title><link>https://f.invalid/</link>"
        b'<description>d</description><atom:link href="https://f.invalid/"'
        b' rel="self"/>',
        b"</channel></rss>",
    ),
    "atom": (
        b"<feed" + declarations("atom") + b"><id>f</id><title>t</title>"
        b"<updated>2000-01-01T00:00:00Z</updated><author><name>a</name></author>"
        b'<link href="https://f.invalid/" rel="self"/>',
        b"</feed>",
    ),
}


def fragment_problems(
    kind: Kind, fragments: Sequence[bytes], item_ids: Sequence[str]
) -> list[str]:
    """``forms.fragment_problems``, a fragment out of its form parsed for
    the message."""
    return forms.fragment_problems(kind, fragments, item_ids, _misfit)


def _misfit(kind: Kind, fragment: bytes) -> str:
    """Why a fragment does not have its form: what a parse of it finds, if
    anything, else that the form differs (a renderer out of step with
    ``forms.FORMS``)."""
    shape = f"not an {ELEMENT[kind]} element as archive documents carry it"
    if not utf8(fragment):
        return f"{shape}: not UTF-8"
    head, tail = _FRAMES[kind]
    try:
        root = etree.fromstring(head + fragment + tail, _PARSER)
    except etree.XMLSyntaxError as e:
        return f"{shape}: not well-formed XML: {e}"
    return "; ".join([shape, *_root_problems(root)])


def check_fragments(where: str, fragments: Sequence[tuple[str, bytes, bytes]]) -> None:
    """Check items' archive fragments, given as (item id, RSS, Atom), made
    while rendering the document ``where``; see ``fragment_problems``.

    Raises:
        ValidationError: listing the problems.
    """
    rss, atom = forms.triple_problems(fragments, _misfit)
    _refuse(
        [f"{where}: RSS fragments: {p}" for p in rss]
        + [f"{where}: Atom fragments: {p}" for p in atom]
    )


def archive_problems(kind: Kind, frame: bytes, item_ids: Sequence[str]) -> list[str]:
    """``forms.archive_problems``, a frame out of its form parsed for the
    message."""
    return forms.archive_problems(kind, frame, item_ids, _parsed_frame_problems)


def _parsed_frame_problems(kind: Kind, frame: bytes) -> list[str]:
    try:
        root = etree.fromstring(frame, _PARSER)
    except etree.XMLSyntaxError as e:
        return [f"not well-formed XML: {e}"]
    problems = _root_problems(root)
    declared = root.nsmap
    for prefix, uri in NAMESPACES[kind].items():
        if declared.get(prefix) != uri:
            shown = f"xmlns:{prefix}" if prefix else "xmlns"
            problems.append(f'the root does not declare {shown}="{uri}"')
    return problems


def validate_archive(
    path: str, kind: Kind, frame: bytes, item_ids: Sequence[str]
) -> None:
    """``validate_outputs`` for an archive document made of checked fragments.

    Raises:
        ValidationError: listing the problems (``archive_problems``).
    """
    _refuse([f"{path}: {p}" for p in archive_problems(kind, frame, item_ids)])


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
