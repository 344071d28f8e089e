"""The forms of archive fragments and frames: what ``render/archive.py``
writes, as patterns over the bytes, and the problems of bytes that miss them
(``validate.py`` explains why a build checks archive documents by their
parts). Pure, and made of the standard library alone: the writer process
(``feedpub/writer.py``) loads this file on its own, without feedpub, to
check documents while the build renders the next ones. Messages that need
a parse (lxml) are given by the caller (``misfit``, ``parsed``). It imports
only ``re`` and ``collections`` at run time: ``xml.sax.saxutils`` alone
(for ``unescape``) took 6 MB of that process's memory, with the URL and
HTTP modules it imports, and ``typing`` 2 MB."""

from __future__ import annotations

import re
from collections import Counter

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Literal

    Kind = Literal["rss", "atom"]

ATOM_NS = "http://www.w3.org/2005/Atom"

RFC822_FORM = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
    r"|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}"
)
RFC3339_FORM = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
)


# The namespaces archive fragments may use (render/archive.py): every archive
# document must declare them on its root (archive_problems checks), and a
# fragment that misses its form is parsed, for the message, in a feed that
# declares them and nothing else (_FRAMES).
NAMESPACES: dict[str, dict[str | None, str]] = {
    "rss": {"dc": "http://purl.org/dc/elements/1.1/", "atom": ATOM_NS},
    "atom": {None: ATOM_NS},
}


def declarations(kind: str) -> bytes:
    return b"".join(
        f' xmlns{":" + prefix if prefix else ""}="{uri}"'.encode()
        for prefix, uri in NAMESPACES[kind].items()
    )


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
_RFC822_BYTES = RFC822_FORM.pattern.encode()
_RFC3339_BYTES = RFC3339_FORM.pattern.encode()
FORMS = {
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
ELEMENT = {"rss": "<item>", "atom": "<entry>"}
# The entities a text of the forms may hold, replaced in this order, "&amp;"
# last (as xml.sax.saxutils.unescape with "&quot;" and "&apos;" does).
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"))


def unescape(text: str) -> str:
    """The characters of a text of the forms, its entities replaced."""
    for entity, character in _ENTITIES:
        text = text.replace(entity, character)
    return text.replace("&amp;", "&")


def fragment_problems(
    kind: Kind,
    fragments: Sequence[bytes],
    item_ids: Sequence[str],
    misfit: Callable[[Kind, bytes], str],
) -> list[str]:
    """Problems of items' RSS ``<item>`` or Atom ``<entry>`` fragments as
    archive documents carry them: each must have the form feedpub writes
    (``FORMS``), which makes it one well-formed element that meets every
    rule for the items of a feed, hold its item's id (``item_ids``, in the
    same order), and, in RSS, a title or a description. ``misfit`` says
    what is wrong with a fragment out of its form.
    """
    form = FORMS[kind]
    problems: list[str] = []
    for item_id, fragment in zip(item_ids, fragments, strict=True):
        found = in_form(form, fragment)
        if found is None:
            problems.append(f"{item_id}: {misfit(kind, fragment)}")
            continue
        text = found["id"].decode()
        if "&" in text:
            text = unescape(text)
        if text.strip() != item_id:
            problems.append(f"{item_id}: expected that id, found {text!r}")
        elif "\r" in text:  # XML reads it as a line feed: another item's id
            problems.append(f"{item_id}: a carriage return in an id")
        if kind == "rss" and not (
            found["title"].strip() or (found["description"] or b"").strip()
        ):
            problems.append(f"{item_id}: neither title nor description")
    return problems


def triple_problems(
    fragments: Sequence[tuple[str, bytes, bytes]],
    misfit: Callable[[Kind, bytes], str],
) -> tuple[list[str], list[str]]:
    """``fragment_problems`` of the RSS and of the Atom fragments of items,
    given as (item id, RSS, Atom): ``validate.check_fragments``' check."""
    ids = [item_id for item_id, _, _ in fragments]
    rss = [fragment for _, fragment, _ in fragments]
    atom = [fragment for _, _, fragment in fragments]
    return (
        fragment_problems("rss", rss, ids, misfit),
        fragment_problems("atom", atom, ids, misfit),
    )


def in_form(form: re.Pattern[bytes], data: bytes) -> re.Match[bytes] | None:
    """The match of UTF-8 ``data`` with the whole of ``form``; None when it
    does not match or is not UTF-8 (the pattern reads bytes)."""
    found = form.fullmatch(data)
    if found is None or (not data.isascii() and not utf8(data)):
        return None
    return found


def utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
# head and tail, without items), as FORMS is for its fragments: the same
# text and values, so a frame of that form is a well-formed feed that
# declares the namespaces its fragments use, with the channel's or feed's
# elements in their order.
_DECLARATION = rb"<\?xml version='1\.0' encoding='UTF-8'\?>\n"
_HISTORY = rb' xmlns:fh="http://purl\.org/syndication/history/1\.0"'
_RSS_TYPE = rb"application/rss\+xml"
_ATOM_TYPE = rb"application/atom\+xml"
FRAME_FORMS = {
    "rss": re.compile(
        _DECLARATION
        + b"<rss"
        + re.escape(declarations("rss"))
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
        + re.escape(declarations("atom"))
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
    kind: Kind,
    frame: bytes,
    item_ids: Sequence[str],
    parsed: Callable[[Kind, bytes], list[str]],
) -> list[str]:
    """Problems of an archive document made of checked fragments: those of its
    ``frame`` (the document without items), which must have the form feedpub
    writes (``FRAME_FORMS``), and repeated item ids. A frame out of its form
    is parsed, for the message (``parsed``): what a parse finds, such as a
    namespace its fragments use that it does not declare."""
    found = in_form(FRAME_FORMS[kind], frame)
    if found is None:
        problems = parsed(kind, frame) or [
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
