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

from feedpub.dates import DATE_PREFIX, DateToken, match_date
from feedpub.errors import SourceError
from feedpub.model import Diagnostic, Field, RawItem, SourceLine
from feedpub.text import DOTTED

FIELD_KEYS = ("title", "tags", "link", "author")
_FIELD = re.compile(r"@(?P<key>[a-z]+):(?P<value>.*)")
_PARTICLES = frozenset(
    "von vom van der den de di du la le zu zur zum und u. & / - – —".split()
)
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
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
        breaks = before.replace(b"\r\r\n", b"\n").replace(b"\r\n", b"\n")
        line = breaks.count(b"\n") + breaks.count(b"\r") + 1
        column = start - max(before.rfind(b"\n"), before.rfind(b"\r"), bom - 1)
        bad = data[start : e.end + bom].hex(" ")
        message = (
            f"expected UTF-8 text, found byte(s) {bad} at column {column}"
            f" (byte offset {start})"
        )
        raise SourceError([_error(source, line, message)]) from e
    # "\r\r\n" is CRLF converted twice on the way: one line end, not two.
    return text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")


def is_byline(text: str) -> bool:
    """Tell whether the rest of a header line reads as an author's name."""
    words = text.split()
    if not words or len(words) > _MAX_BYLINE_WORDS or len(text) > _MAX_BYLINE_CHARS:
        return False
    if any(char.isdigit() for char in text):
        return False
    last = words[-1]
    if last[-1] in ",;:!?" or (last[-1] == "." and not DOTTED.fullmatch(last)):
        return False
    if not words[0].lstrip("(„\"'")[:1].isupper():
        return False  # a name starts with a capital: not "von …", not "– Text"
    for word in words:
        head = word.lstrip("„\"'")
        if word.startswith("(") and word.endswith(")"):
            continue  # an agency or place in brackets: "(dpa)", "(Schwerin)"
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
    originals = text.split("\n")
    # _trim() returns a line that needs no trimming as it is: the two lists
    # share those strings instead of holding the document twice.
    lines = [_trim(line) for line in originals]
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    starts: list[int] = []  # 0-based indexes of header lines
    dates: list[tuple[DateToken, str]] = []  # their date and the rest of the line
    for index in range(len(lines)):
        verdict = _header(lines, index)
        if isinstance(verdict, tuple):
            starts.append(index)
            dates.append(verdict)
        elif verdict is not None:
            owner = (
                f"the item at line {starts[-1] + 1}"
                if starts
                else "the text before the first header"
            )
            warnings.append(
                Diagnostic(
                    source=source,
                    line=index + 1,
                    message=f"line starts with a date but is not an item header"
                    f" ({verdict}); kept as part of {owner}",
                )
            )
    preamble = [i + 1 for i in range(starts[0] if starts else len(lines)) if lines[i]]
    if preamble and starts:
        count = len(preamble)
        warnings.insert(
            0,
            Diagnostic(
                source=source,
                line=preamble[0],
                message="text before the first date header belongs to no item"
                f" ({count} line{'s' if count > 1 else ''}, up to line {preamble[-1]})",
            ),
        )
    items: list[RawItem] = []
    ends = [*starts[1:], len(lines)] if starts else []
    for start, end, date in zip(starts, ends, dates, strict=True):
        item = _parse_item(source, lines, originals, start, end, date, errors)
        if item is not None:
            items.append(item)
            if not item.paragraphs:
                warnings.append(
                    Diagnostic(
                        source=source, line=item.line, message="item has no text"
                    )
                )
    if not starts and preamble:
        errors.append(
            _error(
                source,
                preamble[0],
                "expected a date header such as 16.09.20, found none",
            )
        )
    if errors:
        raise SourceError(errors)
    warnings.sort(key=lambda d: d.line)
    return items, warnings


def _trim(line: str) -> str:
    """Strip white space and invisible characters (a stray BOM, zero-width
    spaces) from both ends, so a line of them counts as blank."""
    return line.strip().strip(_INVISIBLE).strip()


def _header(lines: list[str], index: int) -> tuple[DateToken, str] | str | None:
    """Apply the header rules to ``lines[index]`` (0-based, trimmed).

    Returns:
        For a header, its date and the rest of the line; ``None`` for plain
        text; for a line that starts a paragraph with a date but breaks a
        rule, the reason, to be reported.
    """
    if index > 0 and lines[index - 1]:
        return None  # inside a paragraph: a hard-wrapped line
    line = lines[index]
    found = match_date(line)
    if found is None:
        loose = DATE_PREFIX.match(line)
        if loose is None:
            return None
        return f"{line[loose.end() :][:1]!r} follows the date"
    rest = found[1].strip()
    if not rest:
        return found
    if not is_byline(rest):
        return f"{_shorten(rest)!r} after the date is not a byline"
    below = lines[index + 1] if index + 1 < len(lines) else ""
    if below and _FIELD.fullmatch(below) is None:
        return "a header with a byline needs a blank line below it"
    return found


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_item(
    source: str,
    lines: list[str],
    originals: list[str],
    start: int,
    end: int,
    date: tuple[DateToken, str],
    errors: list[Diagnostic],
) -> RawItem | None:
    """Read the item whose header is ``lines[start]``, up to ``lines[end]``;
    ``date`` is what ``_header()`` found on the header line."""
    token, rest = date
    try:
        day = token.to_date()
    except ValueError:
        errors.append(
            _error(
                source,
                start + 1,
                f"expected a real calendar date, found {token.text!r}"
                f" ({token.day:02d}.{token.month:02d}.{token.year:04d} does not exist)",
            )
        )
        return None
    fields: list[Field] = []
    paragraphs: list[tuple[SourceLine, ...]] = []
    current: list[SourceLine] = []
    in_fields = True
    for index in range(start + 1, end):
        line = lines[index]
        if not line:
            if current:
                paragraphs.append(tuple(current))
                current = []
            continue
        field = _FIELD.fullmatch(line) if in_fields else None
        if field is not None:
            _add_field(source, index + 1, field, fields, errors)
            continue
        in_fields = False
        current.append(SourceLine(number=index + 1, text=originals[index]))
    if current:
        paragraphs.append(tuple(current))
    return RawItem(
        source=source,
        line=start + 1,
        day=day,
        date_text=token.text,
        byline=rest.strip() or None,
        fields=tuple(fields),
        paragraphs=tuple(paragraphs),
    )


def _add_field(
    source: str,
    number: int,
    match: re.Match[str],
    fields: list[Field],
    errors: list[Diagnostic],
) -> None:
    key, value = match["key"], match["value"].strip()
    if key not in FIELD_KEYS:
        expected = ", ".join(f"@{k}:" for k in FIELD_KEYS)
        errors.append(
            _error(source, number, f"expected one of {expected} found @{key}:")
        )
    elif not value:
        errors.append(
            _error(source, number, f"expected a value after @{key}:, found none")
        )
    elif any(f.key == key for f in fields):
        errors.append(
            _error(source, number, f"expected @{key}: once per item, found it again")
        )
    else:
        fields.append(Field(key=key, value=value, line=number))


def _error(source: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(source=source, line=line, message=message, severity="error")
