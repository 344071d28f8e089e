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
(about 1 GB) are not parsed again.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Literal
from xml.sax.saxutils import unescape

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
_RFC822_FORM = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
    r"|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}"
)
_RFC3339_FORM = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
)


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
            _RFC822_FORM.fullmatch(d) or _rfc822(d) for d in _texts(_RSS_DATES, root)
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
        and all(_RFC3339_FORM.fullmatch(u.strip()) or _rfc3339(u) for u in updated)
        and all(
            _RFC3339_FORM.fullmatch(p.strip()) or _rfc3339(p)
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


# The namespaces archive fragments may use (render/archive.py): every archive
# document must declare them on its root (archive_problems checks), and a
# fragment that misses its form is parsed, for the message, in a feed that
# declares them and nothing else (_FRAMES).
_NAMESPACES: dict[str, dict[str | None, str]] = {
    "rss": {"dc": "http://purl.org/dc/elements/1.1/", "atom": ATOM[1:-1]},
    "atom": {None: ATOM[1:-1]},
}


def _declarations(kind: str) -> bytes:
    return b"".join(
        f' xmlns{":" + prefix if prefix else ""}="{uri}"'.encode()
        for prefix, uri in _NAMESPACES[kind].items()
    )


_FRAMES: dict[str, tuple[bytes, bytes]] = {
    "rss": (
        b"<rss" + _declarations("rss") + b' version="2.0"><channel>'
        b"<title>t</title><link>https://f.invalid/</link>"
        b'<description>d</description><atom:link href="https://f.invalid/"'
        b' rel="self"/>',
        b"</channel></rss>",
    ),
    "atom": (
        b"<feed" + _declarations("atom") + b"><id>f</id><title>t</title>"
        b"<updated>2000-01-01T00:00:00Z</updated><author><name>a</name></author>"
        b'<link href="https://f.invalid/" rel="self"/>',
        b"</feed>",
    ),
}
# The form of the archive fragments that render/archive.py writes, over their
# UTF-8 bytes: each element, in its order and with its indentation, one
# pattern per kind. Text and attribute values hold characters XML allows (no
# C0 control but tab, line feed and carriage return; not U+FFFE or U+FFFF,
# whose UTF-8 is EF BF BE and EF BF BF; the bytes must be UTF-8, which rules
# out surrogates), with "<", ">" and "&" only as predefined entities, and in
# attribute values '"' too, and the references of tab, line feed and
# carriage return. So every "<" in a fragment of that form is one of the
# pattern's own tags, each closed in order: the fragment is one well-formed
# element, on its own and in any document that declares the prefix it uses
# (dc). Matching the form is one scan of the bytes; parsing the fragments
# in a document took several times as long (a large build checks 200,000).
_TEXT = (
    rb"(?:[^<>&\x00-\x08\x0b\x0c\x0e-\x1f\xef]++"
    rb"|\xef(?!\xbf[\xbe\xbf])|&(?:amp|lt|gt|quot|apos);)*+"
)
_VALUE = (
    rb'"(?:[^<>&"\x00-\x08\x0b\x0c\x0e-\x1f\xef]++'
    rb'|\xef(?!\xbf[\xbe\xbf])|&(?:amp|lt|gt|quot|apos|#9|#10|#13);)*+"'
)
_RFC822_BYTES = _RFC822_FORM.pattern.encode()
_RFC3339_BYTES = _RFC3339_FORM.pattern.encode()
_FORMS = {
    "rss": re.compile(
        rb"    <item>\n      <title>(?P<title>" + _TEXT + rb")</title>\n"
        rb"      <link>" + _TEXT + rb"</link>"
        rb"(?:\n      <description>(?P<description>" + _TEXT + rb")</description>)?"
        rb'\n      <guid isPermaLink="false">(?P<id>' + _TEXT + rb")</guid>"
        rb"(?:\n      <category>" + _TEXT + rb"</category>)*+"
        rb"\n      <pubDate>" + _RFC822_BYTES + rb"</pubDate>"
        rb"(?:\n      <dc:creator>" + _TEXT + rb"</dc:creator>)?"
        rb"\n    </item>\n"
    ),
    "atom": re.compile(
        rb"  <entry>\n    <id>(?P<id>" + _TEXT + rb")</id>\n"
        rb"    <title>" + _TEXT + rb"</title>\n"
        rb"    <updated>" + _RFC3339_BYTES + rb"</updated>"
        rb"(?:\n    <author>\n      <name>" + _TEXT + rb"</name>\n    </author>)?"
        rb'(?:\n    <content type="html">' + _TEXT + rb"</content>)?"
        rb"\n    <link href=" + _VALUE + rb"/>"
        rb'\n    <summary type="text">' + _TEXT + rb"</summary>"
        rb"(?:\n    <category term=" + _VALUE + rb" label=" + _VALUE + rb"/>)*+"
        rb"\n    <published>" + _RFC3339_BYTES + rb"</published>\n  </entry>\n"
    ),
}
_ELEMENT = {"rss": "<item>", "atom": "<entry>"}
_ENTITIES = {"&quot;": '"', "&apos;": "'"}  # and those unescape() knows


def fragment_problems(
    kind: Literal["rss", "atom"], fragments: Sequence[bytes], item_ids: Sequence[str]
) -> list[str]:
    """Problems of items' RSS ``<item>`` or Atom ``<entry>`` fragments as
    archive documents carry them: each must have the form feedpub writes
    (``_FORMS``), which makes it one well-formed element that meets every
    rule for the items of a feed, hold its item's id (``item_ids``, in the
    same order), and, in RSS, a title or a description.
    """
    form = _FORMS[kind]
    problems: list[str] = []
    for item_id, fragment in zip(item_ids, fragments, strict=True):
        found = _in_form(form, fragment)
        if found is None:
            problems.append(f"{item_id}: {_misfit(kind, fragment)}")
            continue
        text = found["id"].decode()
        if "&" in text:
            text = unescape(text, _ENTITIES)
        if text.strip() != item_id:
            problems.append(f"{item_id}: expected that id, found {text!r}")
        elif "\r" in text:  # XML reads it as a line feed: another item's id
            problems.append(f"{item_id}: a carriage return in an id")
        if kind == "rss" and not (
            found["title"].strip() or (found["description"] or b"").strip()
        ):
            problems.append(f"{item_id}: neither title nor description")
    return problems


def _in_form(form: re.Pattern[bytes], data: bytes) -> re.Match[bytes] | None:
    """The match of UTF-8 ``data`` with the whole of ``form``; None when it
    does not match or is not UTF-8 (the pattern reads bytes)."""
    found = form.fullmatch(data)
    if found is None or (not data.isascii() and not _utf8(data)):
        return None
    return found


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _misfit(kind: Literal["rss", "atom"], fragment: bytes) -> str:
    """Why a fragment does not have its form: what a parse of it finds, if
    anything, else that the form differs (a renderer out of step with
    ``_FORMS``)."""
    shape = f"not an {_ELEMENT[kind]} element as archive documents carry it"
    if not _utf8(fragment):
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
    ids = [item_id for item_id, _, _ in fragments]
    rss = [fragment for _, fragment, _ in fragments]
    atom = [fragment for _, _, fragment in fragments]
    _refuse(
        [f"{where}: RSS fragments: {p}" for p in fragment_problems("rss", rss, ids)]
        + [
            f"{where}: Atom fragments: {p}"
            for p in fragment_problems("atom", atom, ids)
        ]
    )


def _neighbours(indent: bytes, tag: bytes, media_type: bytes) -> bytes:
    """RFC 5005's links of an archive document after self: current, then the
    previous and the next archive, each where there is one."""
    return b"".join(
        b"(?:"
        + indent
        + b"<"
        + tag
        + b" href="
        + _VALUE
        + b' rel="'
        + rel
        + b'" type="'
        + media_type
        + b'"/>\n)?'
        for rel in (b"current", b"prev-archive", b"next-archive")
    )


# The form of an archive document's frame as render/archive.py writes it (its
# head and tail, without items), as _FORMS is for its fragments: the same
# text and values, so a frame of that form is a well-formed feed that
# declares the namespaces its fragments use, with the channel's or feed's
# elements in their order.
_DECLARATION = rb"<\?xml version='1\.0' encoding='UTF-8'\?>\n"
_HISTORY = rb' xmlns:fh="http://purl\.org/syndication/history/1\.0"'
_RSS_TYPE = rb"application/rss\+xml"
_ATOM_TYPE = rb"application/atom\+xml"
_FRAME_FORMS = {
    "rss": re.compile(
        _DECLARATION
        + b"<rss"
        + re.escape(_declarations("rss"))
        + _HISTORY
        + rb' version="2\.0">\n'
        rb"  <channel>\n"
        rb"    <title>(?P<title>" + _TEXT + rb")</title>\n"
        rb"    <link>(?P<link>" + _TEXT + rb")</link>\n"
        rb"    <description>(?P<description>" + _TEXT + rb")</description>\n"
        rb"    <atom:link href=(?P<self>"
        + _VALUE
        + rb') rel="self" type="'
        + _RSS_TYPE
        + rb'"/>\n'
        + _neighbours(b"    ", b"atom:link", _RSS_TYPE)
        + rb"    <fh:archive/>\n"
        rb"    <docs>" + _TEXT + rb"</docs>\n"
        rb"    <generator>" + _TEXT + rb"</generator>\n"
        rb"    <language>" + _TEXT + rb"</language>\n"
        rb"    <lastBuildDate>" + _RFC822_BYTES + rb"</lastBuildDate>\n"
        rb"    <pubDate>" + _RFC822_BYTES + rb"</pubDate>\n"
        rb"  </channel>\n</rss>\n"
    ),
    "atom": re.compile(
        _DECLARATION
        + b"<feed"
        + re.escape(_declarations("atom"))
        + _HISTORY
        + rb" xml:lang="
        + _VALUE
        + rb">\n"
        rb"  <id>(?P<id>" + _TEXT + rb")</id>\n"
        rb"  <title>(?P<title>" + _TEXT + rb")</title>\n"
        rb"  <updated>" + _RFC3339_BYTES + rb"</updated>\n"
        rb"  <author>\n    <name>" + _TEXT + rb"</name>\n  </author>\n"
        rb"  <link href=(?P<self>"
        + _VALUE
        + rb') rel="self" type="'
        + _ATOM_TYPE
        + rb'"/>\n'
        rb"  <link href="
        + _VALUE
        + rb' rel="alternate" type="text/html"/>\n'
        + _neighbours(b"  ", b"link", _ATOM_TYPE)
        + rb"  <fh:archive/>\n"
        rb"  <generator>" + _TEXT + rb"</generator>\n"
        rb"  <subtitle>" + _TEXT + rb"</subtitle>\n"
        rb"</feed>\n"
    ),
}


def archive_problems(
    kind: Literal["rss", "atom"], frame: bytes, item_ids: Sequence[str]
) -> list[str]:
    """Problems of an archive document made of checked fragments: those of its
    ``frame`` (the document without items), which must have the form feedpub
    writes (``_FRAME_FORMS``), and repeated item ids. A frame out of its form
    is parsed, for the message: what a parse finds, such as a namespace its
    fragments use that it does not declare."""
    found = _in_form(_FRAME_FORMS[kind], frame)
    if found is None:
        problems = _parsed_frame_problems(kind, frame) or [
            "not an archive document's frame as feedpub writes it"
        ]
    else:
        parent = "channel" if kind == "rss" else "feed"
        problems = [
            f"{parent} has no <{name}>"
            for name, value in found.groupdict().items()
            if name != "self" and not value.decode().strip()
        ]
        if found["self"] == b'""':
            problems.append("the self link has no href")
    if len(set(item_ids)) != len(item_ids):
        twice = sorted(i for i, n in Counter(item_ids).items() if n > 1)
        problems.append(f"duplicate item id(s) {', '.join(map(repr, twice))}")
    return problems


def _parsed_frame_problems(kind: Literal["rss", "atom"], frame: bytes) -> list[str]:
    try:
        root = etree.fromstring(frame, _PARSER)
    except etree.XMLSyntaxError as e:
        return [f"not well-formed XML: {e}"]
    problems = _root_problems(root)
    declared = root.nsmap
    for prefix, uri in _NAMESPACES[kind].items():
        if declared.get(prefix) != uri:
            shown = f"xmlns:{prefix}" if prefix else "xmlns"
            problems.append(f'the root does not declare {shown}="{uri}"')
    return problems


def validate_archive(
    path: str, kind: Literal["rss", "atom"], frame: bytes, item_ids: Sequence[str]
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
