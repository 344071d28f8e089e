"""Source bytes -> raw items, each keeping its ``file:line``.

A line is an item **header** when all of these hold:

1. it is the first non-blank line of the document, or the line above it is blank;
2. after trimming, it is a date (see :mod:`feedpub.dates`), optionally followed
   by white space and a byline;
3. a byline looks like a name: 1-8 words, each starting with a capital letter
   (or a name particle such as ``von``), no digits, no sentence punctuation at
   its end; and the line below a header with a byline is blank, a field line
   or the end of the document.

Anything else that starts with a date (``17.05.2017, 10:10 Uhr. Mit dabei …``,
a date in the middle of a hard-wrapped paragraph) is body text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from feedpub.dates import match_date
from feedpub.errors import SourceError
from feedpub.model import Diagnostic, Field, RawItem, SourceLine

FIELD_KEYS = ("title", "tags", "link", "author")
_FIELD = re.compile(r"@(?P<key>[a-z]+):(?P<value>.*)")
_PARTICLES = frozenset(
    "von vom van der den de di du la le zu zur zum und u. & / - – —".split()
)
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+")
_MAX_BYLINE_WORDS = 8
_MAX_BYLINE_CHARS = 80


def decode_source(data: bytes, source: str) -> str:
    """Decode a source document: UTF-8 with or without BOM, any line ends.

    Raises:
        SourceError: the bytes are not UTF-8; names the line and byte offset.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(
            [_error(source, 1, "expected UTF-8 text, found a UTF-16 byte order mark")]
        )
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as e:
        start = e.start + bom  # offsets in the file as it is on disk
        before = data[:start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        column = start - max(before.rfind(b"\n"), before.rfind(b"\r"), bom - 1)
        bad = data[start : e.end + bom].hex(" ")
        message = (
            f"expected UTF-8 text, found byte(s) {bad} at column {column}"
            f" (byte offset {start})"
        )
        raise SourceError([_error(source, line, message)]) from e
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_byline(text: str) -> bool:
    """Tell whether the rest of a header line reads as an author's name."""
    words = text.split()
    if not words or len(words) > _MAX_BYLINE_WORDS or len(text) > _MAX_BYLINE_CHARS:
        return False
    if any(char.isdigit() for char in text):
        return False
    last = words[-1]
    if last[-1] in ",;:!?" or (last[-1] == "." and not _INITIALS.fullmatch(last)):
        return False
    for word in words:
        head = word.lstrip("(„\"'")
        if not head or not (head[0].isupper() or word.casefold() in _PARTICLES):
            return False
    return True


def parse_document(text: str, source: str) -> tuple[list[RawItem], list[Diagnostic]]:
    """Split a decoded document into raw items.

    Args:
        text: the document, decoded, with ``\\n`` line ends.
        source: how to name the document in messages (a path as given).

    Returns:
        The items in document order and the warnings found.

    Raises:
        SourceError: listing every impossible date or bad field line.
    """
    lines = text.split("\n")
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    items: list[RawItem] = []
    preamble: list[int] = []
    for block in _split_items(lines):
        header_line, _header_text = block[0]
        if header_line == 0:
            preamble.extend(number for number, text in block[1:] if text.strip())
            continue
        item = _parse_item(source, lines, block, errors)
        if item is not None:
            items.append(item)
            if not item.paragraphs:
                warnings.append(
                    Diagnostic(
                        source=source, line=item.line, message="item has no text"
                    )
                )
    if preamble:
        count = len(preamble)
        warnings.insert(
            0,
            Diagnostic(
                source=source,
                line=preamble[0],
                message=f"text before the first date header belongs to no item"
                f" ({count} line{'s' if count > 1 else ''}, up to line {preamble[-1]})",
            ),
        )
    if not items and not errors and any(line.strip() for line in lines):
        errors.append(
            _error(source, 1, "expected a date header such as 16.09.20, found none")
        )
    if errors:
        raise SourceError(errors)
    return items, warnings


def _header(lines: list[str], index: int) -> bool:
    """Apply the header rules to ``lines[index]`` (0-based)."""
    if index > 0 and lines[index - 1].strip():
        return False
    found = match_date(lines[index].strip())
    if found is None:
        return False
    rest = found[1].strip()
    if not rest:
        return True
    if not is_byline(rest):
        return False
    below = lines[index + 1].strip() if index + 1 < len(lines) else ""
    return not below or _FIELD.fullmatch(below) is not None


def _split_items(lines: list[str]) -> Iterator[list[tuple[int, str]]]:
    """Yield blocks of (line number, text): a header line and what follows it.

    The first block has the header number 0 and holds any preamble.
    """
    block: list[tuple[int, str]] = [(0, "")]
    for index, text in enumerate(lines):
        if _header(lines, index):
            yield block
            block = [(index + 1, text)]
        else:
            block.append((index + 1, text))
    yield block


def _parse_item(
    source: str,
    lines: list[str],
    block: list[tuple[int, str]],
    errors: list[Diagnostic],
) -> RawItem | None:
    number, text = block[0]
    found = match_date(text.strip())
    assert found is not None  # _header() accepted this line
    token, rest = found
    try:
        day = token.to_date()
    except ValueError:
        errors.append(
            _error(
                source,
                number,
                f"expected a real calendar date, found {token.text!r}"
                f" ({token.day:02d}.{token.month:02d}.{token.year:04d} does not exist)",
            )
        )
        return None
    fields: list[Field] = []
    paragraphs: list[tuple[SourceLine, ...]] = []
    current: list[SourceLine] = []
    in_fields = True
    for line_number, line_text in block[1:]:
        if not line_text.strip():
            if current:
                paragraphs.append(tuple(current))
                current = []
            continue
        field = _FIELD.fullmatch(line_text.strip()) if in_fields else None
        if field is not None:
            key, value = field["key"], field["value"].strip()
            if key not in FIELD_KEYS:
                expected = ", ".join(f"@{k}:" for k in FIELD_KEYS)
                errors.append(
                    _error(
                        source, line_number, f"expected one of {expected} found @{key}:"
                    )
                )
            elif not value:
                errors.append(
                    _error(
                        source,
                        line_number,
                        f"expected a value after @{key}:, found none",
                    )
                )
            elif any(f.key == key for f in fields):
                errors.append(
                    _error(
                        source,
                        line_number,
                        f"expected @{key}: once per item, found it again",
                    )
                )
            else:
                fields.append(Field(key=key, value=value, line=line_number))
            continue
        in_fields = False
        current.append(SourceLine(number=line_number, text=line_text))
    if current:
        paragraphs.append(tuple(current))
    byline = rest.strip() or None
    return RawItem(
        source=source,
        line=number,
        day=day,
        date_text=token.text,
        byline=byline,
        fields=tuple(fields),
        paragraphs=tuple(paragraphs),
    )


def _error(source: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(source=source, line=line, message=message, severity="error")
