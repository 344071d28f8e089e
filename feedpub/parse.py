"""Source bytes -> raw items, each keeping its ``file:line``.

A line is an item **header** when all of these hold:

1. it is the first non-blank line of the document, or the line above it is blank;
2. after trimming, it is a date (see :mod:`feedpub.dates`; a weekday before it
   must be the date's), optionally followed by white space and a byline;
3. a byline looks like a name: 1-8 words, each starting with a capital letter
   (or a name particle such as ``von``), no digits, no sentence punctuation at
   its end; and the line below a header with a byline is blank, a field line
   or the end of the document.

Anything else that starts with a date (``17.05.2017, 10:10 Uhr. Mit dabei …``,
a date in the middle of a hard-wrapped paragraph) is body text. Such a line is
reported when it starts a paragraph (``15.09.20:``, ``3. Oktobr 2020``) or is
right below a header and would be one itself, so a mistyped header never
vanishes into the item above it.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

from feedpub.dates import (
    DATE_PREFIX,
    FIRST_YEAR,
    NAMED_PREFIX,
    WEEKDAY,
    WORD_AND_DATE,
    WORD_BEFORE_DATE,
    DateToken,
    is_month,
    looks_like_month,
    looks_like_weekday,
    match_date,
)
from feedpub.errors import SourceError
from feedpub.model import Block, Diagnostic, Field, RawItem, SourceLine
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
    blocks, warnings, errors = split_blocks(text, source)
    items: list[RawItem] = []
    for block in blocks:
        try:
            item = read_block(block)
        except SourceError as e:
            errors.extend(e.diagnostics)
            continue
        items.append(item)
        if not item.paragraphs:
            warnings.append(
                Diagnostic(source=source, line=item.line, message="item has no text")
            )
    if errors:
        raise SourceError(sorted(errors, key=lambda d: d.line))
    warnings.sort(key=lambda d: d.line)
    return items, warnings


def split_blocks(
    text: str, source: str
) -> tuple[list[Block], list[Diagnostic], list[Diagnostic]]:
    """Find the item headers of a decoded document and cut it into blocks.

    Returns:
        The blocks in document order, the warnings and the errors found.
    """
    splitter = _Splitter(source, text)
    splitter.feed(text, 0)
    return splitter.finish()


def split_source(
    data: bytes, source: str, piece: int = 1 << 22
) -> tuple[list[Block], list[Diagnostic], list[Diagnostic]]:
    """``split_blocks(decode_source(data, source), source)``, decoding the
    document in pieces of about ``piece`` bytes cut at blank lines, so a large
    document is never held as one string (4 bytes a character once it has one
    „ in it). The blocks point into the document's UTF-8 bytes (line ends
    made ``\\n``, a byte order mark left out), by byte offsets, so a block can
    be found again by its place in the file (``block_at``).

    Raises:
        SourceError: the bytes are not UTF-8 (see ``decode_source``).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        decode_source(data, source)  # raises: UTF-16 is not UTF-8
    original = data
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data:
        data = (
            data.replace(b"\r\r\n", b"\n").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        )
    splitter = _Splitter(source, data)
    start = 0
    while start < len(data):
        cut = data.find(b"\n\n", start + piece)  # the next piece starts a paragraph
        cut = len(data) if cut < 0 else cut + 2
        try:
            text = data[start:cut].decode("utf-8")
        except UnicodeDecodeError:
            decode_source(original, source)  # raises, naming the line and column
            raise
        splitter.feed(text, start)
        start = cut
    return splitter.finish()


class _Offsets:
    """Offsets in a piece of text -> offsets in its document: the same number
    in a decoded document, the UTF-8 byte offset in a document of bytes.
    Asked in increasing order, so each character is encoded once."""

    def __init__(self, text: str, base: int, in_bytes: bool) -> None:
        self._text = text
        self._plain = not in_bytes or text.isascii()
        self._char, self._byte = 0, base

    def __call__(self, char: int) -> int:
        if self._plain:
            return self._byte + char
        self._byte += len(self._text[self._char : char].encode())
        self._char = char
        return self._byte


class _Splitter:
    """Cuts a document into blocks piece by piece; each piece starts a line
    that follows a blank line (or starts the document).

    Only a line after a blank line (or the first line) whose trimmed text
    starts with a digit, or with a weekday and a digit, can be a header; one
    regular expression finds those, so the lines in between are never looked
    at one by one. Of the lines below them, only the one right below a header
    is looked at (``_header_below``).
    """

    def __init__(self, source: str, document: str | bytes) -> None:
        self.source = source
        self.document = document  # what the blocks' offsets point into
        self.blocks: list[Block] = []
        self.warnings: list[Diagnostic] = []
        self.errors: list[Diagnostic] = []
        self.lead: list[str] = []  # the text before the first header
        self.line = 1  # the line number of the next piece's first line
        self.owner = 0  # the line of the last header so far; 0: none yet
        self.open = False  # the last header made the last block

    def feed(self, text: str, base: int) -> None:
        """Split one piece, found at offset ``base`` of the document; its text
        before its first header continues the last block (or the text before
        the document's first header)."""
        source = self.source
        heads: list[tuple[int, int, int, tuple[DateToken, str]]] = []
        number, counted = self.line, 0  # the line number at offset ``counted``
        for start in _candidates(text):
            number += text.count("\n", counted, start)
            counted = start
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            below_end = text.find("\n", end + 1)
            below = _trim(text[end + 1 : len(text) if below_end < 0 else below_end])
            verdict = _header(_trim(text[start:end]), below)
            if isinstance(verdict, tuple):
                heads.append((start, end, number, verdict))
                if below and _header_below(text, below, below_end):
                    reason = "a header needs a blank line above it"
                    self.warnings.append(_near(source, number + 1, reason, number))
            elif verdict is not None:
                owner = heads[-1][2] if heads else self.owner
                self.warnings.append(_near(source, number, verdict, owner))
        lead = text[: heads[0][0] if heads else len(text)]
        offset = _Offsets(text, base, isinstance(self.document, bytes))
        if self.open:
            last = self.blocks[-1]
            self.blocks[-1] = dataclasses.replace(last, end=offset(len(lead)))
        elif not self.owner:
            self.lead.append(lead)
        nexts = [h[0] for h in heads[1:]] + [len(text)] * bool(heads)
        for (start, end, line, (token, rest)), stop in zip(heads, nexts, strict=True):
            self.owner = line
            self.open = False
            try:
                day = token.to_date()
            except ValueError:
                self.errors.append(
                    _error(
                        source,
                        line,
                        f"expected a real calendar date, found {token.text!r}"
                        f" ({token.day:02d}.{token.month:02d}.{token.year:04d}"
                        " does not exist)",
                    )
                )
                continue
            if day.year < FIRST_YEAR:
                self.errors.append(
                    _error(
                        source,
                        line,
                        f"expected a year from {FIRST_YEAR} on, found {token.text!r}"
                        " (feeds write dates with four-digit years)",
                    )
                )
                continue
            weekday = token.wrong_weekday(day)
            if weekday is not None:
                self.errors.append(
                    _error(
                        source,
                        line,
                        f"expected {weekday}, the weekday of {token.text!r},"
                        f" found {token.weekday!r}",
                    )
                )
                continue
            # The body runs to the start of the next header line, so cutting
            # the document into pieces elsewhere gives the same blocks.
            self.blocks.append(
                Block(
                    source=source,
                    line=line,
                    day=day,
                    date_text=token.text,
                    byline=rest.strip() or None,
                    header=text[start:end],
                    document=self.document,
                    head=offset(start),
                    start=offset(min(end + 1, stop)),
                    end=offset(stop),
                )
            )
            self.open = True
        self.line += text.count("\n")

    def finish(self) -> tuple[list[Block], list[Diagnostic], list[Diagnostic]]:
        """The blocks, the warnings and the errors of the whole document."""
        lines = "".join(self.lead).split("\n")
        preamble = [i + 1 for i, line in enumerate(lines) if _trim(line)]
        if preamble and self.owner:
            count = len(preamble)
            self.warnings.insert(
                0,
                Diagnostic(
                    source=self.source,
                    line=preamble[0],
                    message="text before the first date header belongs to no item"
                    f" ({count} line{'s' if count > 1 else ''},"
                    f" up to line {preamble[-1]})",
                ),
            )
        elif preamble:
            self.errors.append(
                _error(
                    self.source,
                    preamble[0],
                    "expected a date header such as 16.09.20, found none",
                )
            )
        return self.blocks, self.warnings, self.errors


# A line that follows a blank line (white space and invisible characters only)
# and starts, after those, with a digit, or a weekday and a digit: every date
# form does; or with a word of five letters or more and a digit, which may
# be a misspelt weekday (reported, see _not_a_date). The first line has no
# line above; _FIRST finds the line below blank lines at the very start.
# _DATE_START is the test for a date on a trimmed line.
_INVISIBLE_CLASS = "\ufeff\u200b\u200c\u200d\u2060"
_DATE_START = re.compile(rf"(?:{WEEKDAY})?\d")
_STARTS_LIKE_A_DATE = (
    rf"(?=(?:[^\S\n]|[{_INVISIBLE_CLASS}])*(?:(?:{WEEKDAY})?\d|{WORD_BEFORE_DATE}))"
)
# One blank line (no line feed in between), not a run of them: a pattern
# that spans several would try each line of a run as its start, and scan the
# rest of the run from each (quadratic in the run's length).
_CANDIDATE = re.compile(rf"\n(?:[^\S\n]|[{_INVISIBLE_CLASS}])*\n{_STARTS_LIKE_A_DATE}")
_FIRST = re.compile(rf"[\s{_INVISIBLE_CLASS}]*\n{_STARTS_LIKE_A_DATE}")


def _candidates(text: str) -> list[int]:
    """Offsets of the lines that may be headers: the first line, and every line
    after a blank one that starts with a digit (or a weekday and a digit)."""
    found = [0]
    first = _FIRST.match(text)
    matches = itertools.chain(
        [first] if first is not None else [],
        _CANDIDATE.finditer(text, first.end() - 1 if first else 0),
    )
    for match in matches:
        start = match.end()
        # The classes above are looser than _trim(), which strips three layers
        # (white space, invisible, white space): check the line above exactly.
        above = text[text.rfind("\n", 0, start - 1) + 1 : start - 1]
        if not above or not _trim(above):
            found.append(start)
    return found


def _trim(line: str) -> str:
    """Strip white space and invisible characters (a stray BOM, zero-width
    spaces) from both ends, so a line of them counts as blank."""
    return line.strip().strip(_INVISIBLE).strip()


def _header(line: str, below: str) -> tuple[DateToken, str] | str | None:
    """Apply the header rules to a trimmed line that starts a paragraph;
    ``below`` is the next line, trimmed ("" at the end of the document).

    Returns:
        For a header, its date and the rest of the line; ``None`` for plain
        text; for a line that starts a paragraph with a date but breaks a
        rule, the reason, to be reported.
    """
    found = match_date(line)
    if found is None:
        return _not_a_date(line)
    rest = found[1].strip()
    if not rest:
        return found
    if not is_byline(rest):
        return f"{_shorten(rest)!r} after the date is not a byline"
    if below and _FIELD.fullmatch(below) is None:
        return "a header with a byline needs a blank line below it"
    return found


def _not_a_date(line: str) -> str | None:
    """Why a trimmed line that is no header still reads as one that starts
    with a date (``15.09.20:``, ``3. Oktobr 2020``, ``Mitwoch, 16.09.2020``);
    ``None`` for text."""
    loose = DATE_PREFIX.match(line)
    if loose is None:
        loose = NAMED_PREFIX.match(line)
        if loose is None:
            # "Insgesamt 120 Gäste" is text; a misspelt or foreign weekday
            # is a header that would vanish into the item above, when the
            # line would be one with a weekday there: a date alone, or a
            # date and a byline ("Kreistag, 28.09.2020 im großen Saal." is
            # prose).
            found = WORD_AND_DATE.match(line)
            if found is None or not looks_like_weekday(found["word"]):
                return None
            rest = line[found.end() :].strip()
            if rest and not is_byline(rest):
                return None
            return f"{found['word']!r} is not a German weekday"
        month = loose["mon"]
        if not is_month(month):
            # "13. Gäste 2020" is text; a foreign or misspelt month is a
            # header that would vanish into the item above.
            if looks_like_month(month):
                return f"{month!r} is not a German month name"
            return None
    return f"{line[loose.end() :][:1]!r} follows the date"


def _header_below(text: str, below: str, end: int) -> bool:
    """Whether ``below``, the trimmed line right below a header, ending at
    ``end`` of ``text`` (-1: at its end), would be a header itself if a blank
    line were above it: a header typed twice, or a blank line forgotten."""
    if _DATE_START.match(below) is None:
        return False  # most items: text right below the header, or a blank line
    after = ""
    if end >= 0:
        after_end = text.find("\n", end + 1)
        after = _trim(text[end + 1 : len(text) if after_end < 0 else after_end])
    return isinstance(_header(below, after), tuple)


def _near(source: str, line: int, reason: str, owner: int) -> Diagnostic:
    """The warning for a line that reads as a header but is not one, kept as
    text of the item with its header at line ``owner`` (0: no item yet)."""
    return Diagnostic(
        source=source,
        line=line,
        message=f"line starts with a date but is not an item header ({reason});"
        " kept as part of "
        + (
            f"the item at line {owner}" if owner else "the text before the first header"
        ),
    )


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ends_with_blank_line(data: bytes) -> bool:
    """Whether the last line of ``data`` (which ends with a line end) is
    blank, as the header rules see it: a date line below it is a header."""
    if not data.endswith(b"\n"):
        return False
    last = data[: len(data) - 1].rpartition(b"\n")[2]
    return not _trim(last.decode())


def block_at(document: bytes, source: str, head: int, end: int, line: int) -> Block:
    """The block that ``split_source`` cut from ``document`` (its bytes as
    the splitter holds them) with its header line at byte ``head`` (line
    ``line``), running to byte ``end``: the header line is read again.

    Raises:
        ValueError: the line at ``head`` does not start with a date.
    """
    newline = document.find(b"\n", head, end)
    header_end = end if newline < 0 else newline
    header = document[head:header_end].decode()
    found = match_date(_trim(header))
    if found is None:
        raise ValueError(f"{source}:{line}: expected an item header, found {header!r}")
    token, rest = found
    return Block(
        source=source,
        line=line,
        day=token.to_date(),
        date_text=token.text,
        byline=rest.strip() or None,
        header=header,
        document=document,
        head=head,
        start=min(header_end + 1, end),
        end=end,
    )


def read_block(block: Block) -> RawItem:
    """Read a block's field lines and paragraphs.

    Raises:
        SourceError: a field line is unknown, empty or repeated.
    """
    errors: list[Diagnostic] = []
    fields: list[Field] = []
    paragraphs: list[tuple[SourceLine, ...]] = []
    current: list[SourceLine] = []
    in_fields = True
    for number, original in enumerate(block.body.split("\n"), start=block.line + 1):
        line = _trim(original)
        if not line:
            if current:
                paragraphs.append(tuple(current))
                current = []
            continue
        field = _FIELD.fullmatch(line) if in_fields else None
        if field is not None:
            _add_field(block.source, number, field, fields, errors)
            continue
        in_fields = False
        current.append(SourceLine(number=number, text=original))
    if current:
        paragraphs.append(tuple(current))
    if errors:
        raise SourceError(errors)
    return RawItem(
        source=block.source,
        line=block.line,
        day=block.day,
        date_text=block.date_text,
        byline=block.byline,
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
