"""The state file: what earlier builds published, so ids and dates survive edits.

The state is one JSON object per line (JSON Lines), written in a fixed order so
the same state always gives the same bytes and a diff shows what changed:

1. ``{"format": "feedpub-state/1", "inputs": ...}``: the format and a digest of
   everything the build read (sources, config, feedpub's version);
2. ``{"output": path, "size": n, "sha256": ..., "key": ...}`` for every file
   the build published, by path (the key: see ``keys.py``);
3. ``{"topic": slug, "name": ...}`` for every configured topic, in config order,
   and ``{"retired": slug, "name": ..., "since": ...}`` for every topic that was
   removed from the config (see ``plan.py`` for what happens to its feeds);
4. ``{"id": ..., "day": ..., "published": ..., "updated": ..., "fingerprint":
   ..., "sketch": ...}`` for every item ever published, by day and id. Items
   removed from the source stay here, so an item that comes back gets its old
   id and date again. An item whose source block gave no warning also has
   ``"block"`` (a digest of its source lines, salted with the code and the
   config), by which a build knows its text is as it was; every item has
   its ``"topics"`` (when it has any, or a block) and, if it has one, its
   ``@link:`` as ``"link"``: enough for the next build to plan it without
   reading its text again.
   An item in the sources now has ``"at"``: where its block is, counted from
   the end of its source (see ``place``), so that items added at the top of
   a source do not move it;
5. ``{"summary": ...}``, last: what a build that only adds items at the top
   of the sources, or changes those of their newest years, needs to plan
   them without reading every record (see ``Summary``, ``Cut`` and
   ``Tail``), and where the item records are in this file, with their
   sha256.

Files of format ``feedpub-state/1`` (no ``"at"``, no summary) are read too.

Parsing and writing are pure; ``publish.py`` reads and writes the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from feedpub.errors import StateError

FORMAT = "feedpub-state/2"
_FORMATS = (FORMAT, "feedpub-state/1")  # what load_state reads
STATE_FILE = "feedpub-state.jsonl"  # its name in the output folder


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One published item as the state remembers it."""

    id: str
    day: dt.date
    published: dt.datetime
    updated: dt.datetime
    fingerprint: str  # digest of what the source says of it (identity.fingerprint)
    sketch: bytes  # bottom-k hashes of its words, packed; for fuzzy matching
    # What a later build needs to plan the item without reading its text again
    # when its source block is unchanged (see site.py): the block's digest
    # ("" when unknown), its topics and its explicit @link: ("" for none).
    block: str = ""
    topics: tuple[str, ...] = ()
    link: str = ""
    # Where the item's block is while it is in the sources, as ``place``
    # packs it (one number: a large build holds one per item); 0 for an item
    # no longer in the sources.
    at: int = 0


_FIELD = 40  # bits of each number in a place but the first
_LIMIT = 1 << _FIELD


def place(number: int, head: int, end: int, lines: int) -> int:
    """Where a block is: the number of its source in build order, the bytes
    from its header line to the end of the source, from the block's end to
    the end, and the lines from its header line to the end, packed into one
    number (``Entry.at``). Counted from the end, so items added above it do
    not move it; bytes of the source as ``parse.split_source`` holds it (no
    byte order mark, "\\n" line ends).

    Raises:
        ValueError: a number is negative or too large (a source of 1 TB).
    """
    if not (0 <= number < 1 << 16 and all(0 <= n < _LIMIT for n in (head, end, lines))):
        raise ValueError("a place is four numbers from 0, the last three below 2**40")
    return (((number << _FIELD | head) << _FIELD | end) << _FIELD | lines) + 1


def unplace(at: int) -> tuple[int, int, int, int]:
    """The four numbers of a place (see ``place``)."""
    at -= 1
    mask = _LIMIT - 1
    return (
        at >> 3 * _FIELD,
        at >> 2 * _FIELD & mask,
        at >> _FIELD & mask,
        at & mask,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Cut:
    """A place in a source where the years of its items part: every item
    above it is of a later year than every item below it. The first item
    header and the end of the source are cuts too. A build whose source has
    the same bytes below a cut reads the text above it alone
    (``site.compile_edited``)."""

    at: int  # bytes from the cut to the end of the source
    # The bytes from the cut down to the next cut (none below the last):
    # the oldest and newest years of their items (NO_ITEMS for none), sha256.
    low: int
    high: int
    sha256: str


NO_ITEMS = (9999, 0)  # (low, high) of a part without items


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRecord:
    """A source document as a build read it."""

    name: str
    size: int  # in bytes
    lead: int  # bytes before its first item header (all of it: no items)
    # Where the years of its items part, from the first item header (the
    # first cut) down to its end, with the sha256 of the bytes in between
    # (see ``Cut``): by them a later build finds the text it had. None when
    # its items cannot be found again by their place (a byte order mark,
    # "\r" line ends).
    cuts: tuple[Cut, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class YearRecord:
    """The items of one year in the sources: how many, first and last published."""

    year: int
    count: int
    first: dt.datetime
    last: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What a build that only adds items at the top needs besides new records.

    The state file writes it last, with where the item records are
    (``Tail``) and a sha256 of the summary itself; a ``State`` made in code
    or read from a file of format 1 has none.
    """

    salt: str  # the build's code and config (site.compile_site)
    warnings: int  # the build's warnings
    # Days with records of equal fingerprints: a build reads such a day in
    # full, and may match its twins to each other's records (identity.py).
    twins: int
    sources: tuple[SourceRecord, ...]
    feeds: tuple[tuple[str, int], ...]  # (feed key, its items): main "", topics
    years: tuple[YearRecord, ...]  # of the items in the sources, oldest first
    # The warnings by the year of the item they are in (text above a
    # source's first header: that item's; 0: a source without items), for
    # each year with any, ascending; they add up to ``warnings``. None: not
    # known (a summary written before they were counted).
    warned: tuple[tuple[int, int], ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Retired:
    """A topic that was removed from the config after it had been published."""

    slug: str
    name: str
    since: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputRecord:
    """A published file: its path, size, digest, and the key of what it shows."""

    path: str
    size: int
    sha256: str
    key: str = ""  # keys.spec_key of the output's spec: equal key, equal bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Everything a build hands on to the next one."""

    inputs: str = ""
    outputs: tuple[OutputRecord, ...] = ()
    topics: tuple[tuple[str, str], ...] = ()  # (slug, name) in config order
    retired: tuple[Retired, ...] = ()
    entries: tuple[Entry, ...] = ()
    summary: Summary | None = None


def _stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is not dt.UTC:
        moment = moment.astimezone(dt.UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


_HEX = re.compile(r"[0-9a-f]*")
# What json.dumps(ensure_ascii=False) writes as it is: no control, quote, backslash.
_PLAIN = re.compile(r"[^\x00-\x1f\"\\]*")


def _string(value: str) -> str:
    """A JSON string, as ``json.dumps(ensure_ascii=False)`` writes it."""
    if _PLAIN.fullmatch(value):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def _moment(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise ValueError(
            f"expected a UTC time like 2020-01-31T12:00:00Z, not {value!r}"
        )
    return dt.datetime.fromisoformat(value)  # "Z": aware, UTC


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def dump_state(state: State) -> bytes:
    """Serialise a state; records come out in their documented order."""
    return b"".join(state_chunks(state))


def state_chunks(state: State, held: HeldRecords | None = None) -> Iterator[bytes]:
    """``dump_state`` in pieces of a few thousand lines: a large state is
    written without ever being held whole (100,000 items: about 50 MB).
    ``held``: the item records, serialised already (``HeldRecords``), in
    place of ``state.entries``."""
    return _chunks(state, None, held)


class Aside(Protocol):
    """Where bytes wait until they are written: ``write`` them, in order,
    then read them back once with ``pieces``. The shell keeps them in a
    temporary file (``publish.Spill``), out of the build's memory."""

    def write(self, data: bytes, /) -> object: ...

    def pieces(self) -> Iterable[bytes]: ...


class InMemory:
    """An ``Aside`` in memory (a list of the pieces)."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def write(self, data: bytes, /) -> None:
        self._pieces.append(data)

    def pieces(self) -> Iterator[bytes]:
        pieces, self._pieces = self._pieces, []
        return iter(pieces)


class HeldRecords:
    """A state's item records, serialised before the rest of the state is
    known, and put ``aside``: a large build's records (100,000 items: about
    60 MB of objects) need not stay in memory while its outputs are rendered,
    which is when its memory peaks. ``state_chunks`` writes them once, as
    they would be written from the entries, byte for byte; the entries can
    go once this is made."""

    def __init__(self, entries: Iterable[Entry], aside: Aside) -> None:
        self._records = _Records()
        self._aside: Aside | None = aside
        for data, years in _entry_chunks(sorted_entries(entries)):
            self._records.add(data, years)
            aside.write(data)

    def pieces(self) -> Iterable[bytes]:
        """The records as written; once only, as ``Aside.pieces``."""
        aside, self._aside = self._aside, None
        if aside is None:
            raise ValueError("records held aside are written once")
        return aside.pieces()

    def summary_line(self, summary: Summary, at: int) -> bytes:
        """``_Records.summary_line`` of the records held."""
        return self._records.summary_line(summary, at)


def appended_chunks(tail: Tail, state: State) -> Iterator[bytes]:
    """``state_chunks`` of the records of ``tail`` followed by those of
    ``state.entries``, records that go after the last of ``tail``'s, with the
    other records and the summary of ``state``; the old item records are
    written back as they are, not read."""
    return _chunks(state, tail)


def _entry_chunks(entries: list[Entry]) -> Iterator[tuple[bytes, list[int]]]:
    """Item records as written, a few thousand lines at a time, with the
    year of each line's item."""
    for start in range(0, len(entries), 4096):
        chunk = entries[start : start + 4096]
        data = ("\n".join(map(_entry_line, chunk)) + "\n").encode("utf-8")
        yield data, [e.day.year for e in chunk]


def _chunks(
    state: State, tail: Tail | None, held: HeldRecords | None = None
) -> Iterator[bytes]:
    lines = [_line({"format": FORMAT, "inputs": state.inputs})]
    lines += [
        _line({"output": o.path, "size": o.size, "sha256": o.sha256, "key": o.key})
        for o in sorted(state.outputs, key=lambda o: o.path)
    ]
    lines += [_line({"topic": slug, "name": name}) for slug, name in state.topics]
    lines += [
        _line({"retired": r.slug, "name": r.name, "since": _stamp(r.since)})
        for r in sorted(state.retired, key=lambda r: r.slug)
    ]
    head = ("\n".join(lines) + "\n").encode("utf-8")
    yield head
    if held is not None:
        if state.entries or tail is not None:
            raise ValueError("records are held aside or given, not both")
        yield from held.pieces()
        if state.summary is not None:
            yield held.summary_line(state.summary, len(head))
        return
    records = _Records(tail)
    entries = sorted_entries(state.entries)
    if tail is not None:
        last = tail.last
        if (
            entries
            and last is not None
            and entry_order(entries[0]) <= entry_order(last)
        ):
            raise ValueError("appended records must come after the last one")
        end = tail.at + tail.size
        for start in range(tail.at, end, 1 << 22):
            yield tail.data[start : min(start + (1 << 22), end)]
    for data, years in _entry_chunks(entries):
        records.add(data, years)
        yield data
    if state.summary is not None:
        yield records.summary_line(state.summary, len(head))


class _Records:
    """The item records as they are written: where each year's records
    start, their size and sha256, for the summary; ``tail``: those of a file
    that they follow."""

    def __init__(self, tail: Tail | None = None) -> None:
        self.size = tail.size if tail else 0
        self.sha256 = tail.sha256.copy() if tail else hashlib.sha256()
        # year -> offset of its first record
        self.years: dict[int, int] = dict(tail.offsets) if tail else {}

    def add(self, data: bytes, years: list[int]) -> None:
        """Count ``data``, a line per record, of items of ``years`` in order
        (a year not seen yet starts in ``data`` when its last is)."""
        if years and years[-1] not in self.years:
            offset = 0  # of the record in data
            for year in years:
                if year not in self.years:
                    self.years[year] = self.size + offset
                offset = data.index(b"\n", offset) + 1
        self.size += len(data)
        self.sha256.update(data)

    def summary_line(self, summary: Summary, at: int) -> bytes:
        """The summary record, the records starting at ``at`` in the file."""
        record = {
            "summary": {
                "salt": summary.salt,
                "warnings": summary.warnings,
                "twins": summary.twins,
                "sources": [
                    [
                        s.name,
                        s.size,
                        s.lead,
                        [[c.at, c.low, c.high, c.sha256] for c in s.cuts],
                    ]
                    for s in summary.sources
                ],
                "feeds": [[key, count] for key, count in summary.feeds],
                "years": [
                    [y.year, y.count, _stamp(y.first), _stamp(y.last)]
                    for y in summary.years
                ],
            }
        }
        if summary.warned is not None:
            record["summary"]["warned"] = [list(pair) for pair in summary.warned]
        record["summary"]["records"] = [at, self.size, self.sha256.hexdigest()]
        record["summary"]["offsets"] = [list(pair) for pair in self.years.items()]
        record["summary"]["check"] = _check(record)
        return (_line(record) + "\n").encode("utf-8")


def _check(record: dict[str, Any]) -> str:
    """The sha256 of a summary record as written, without its check."""
    return hashlib.sha256(_line(record).encode("utf-8")).hexdigest()


def _entry_line(e: Entry) -> str:
    """An item record, written by hand as _line() would: there is one per item
    ever published. Digests are hex (checked by _entry()): nothing to escape."""
    published = _stamp(e.published)
    updated = published if e.updated == e.published else _stamp(e.updated)
    return (
        f'{{"id": {_string(e.id)}, "day": "{e.day}",'
        f' "published": "{published}", "updated": "{updated}",'
        f' "fingerprint": "{e.fingerprint}", "sketch": "{e.sketch.hex()}"{_memo(e)}'
        f"{_at(e)}}}"
    )


def _at(entry: Entry) -> str:
    if not entry.at:
        return ""
    return ', "at": [{}, {}, {}, {}]'.format(*unplace(entry.at))


def _memo(entry: Entry) -> str:
    """The optional fields of an item record: the block digest, topics and
    link, each left out when empty (the topics of a record with a digest
    are always written)."""
    block = f', "block": "{entry.block}"' if entry.block else ""
    topics = ""
    if entry.block or entry.topics:
        topics = f', "topics": [{", ".join(map(_string, entry.topics))}]'
    link = f', "link": {_string(entry.link)}' if entry.link else ""
    return block + topics + link


def entry_order(entry: Entry) -> tuple[dt.date, int, str]:
    """Where a record goes in the file: by day, then by the number in the id."""
    return (entry.day, len(entry.id), entry.id)


def sorted_entries(entries: Iterable[Entry]) -> list[Entry]:
    """Entries in the file's order (``entry_order``)."""
    return sorted(entries, key=entry_order)


def read_inputs(first_line: bytes, name: str) -> str:
    """The inputs digest from a state file's first line, without the rest.

    Raises:
        StateError: the line is not a header of this format.
    """
    return _header(_record(first_line, name, 1), name)


def load_state(data: bytes | BinaryIO, name: str, *, records: bool = True) -> State:
    """Parse a state file: its bytes, or the file opened in binary mode (read
    line by line).

    ``records``: False leaves the item records out (``State.entries`` is
    empty), and the lines they are written on unread.

    Raises:
        StateError: naming ``name`` and the line that is not valid.
    """
    inputs = ""
    outputs: list[OutputRecord] = []
    topics: list[tuple[str, str]] = []
    retired: list[Retired] = []
    entries: list[Entry] = []
    summary: Summary | None = None
    ids: set[str] = set()
    skip = b"" if records else _ITEM
    for number, record in _records(data, name, skip):
        try:
            if summary is not None:
                raise ValueError("expected the summary last")
            if number == 1:
                inputs = _header(record, name)
            elif "summary" in record:
                summary = _summary(record["summary"])
            elif "id" in record:
                if not records:
                    continue
                entry = _entry(record)
                if entry.id in ids:
                    raise ValueError(f"id {entry.id!r} appears twice")
                ids.add(entry.id)
                entries.append(entry)
            elif "output" in record:
                outputs.append(_output(record, name, number))
            elif "topic" in record:
                topics.append((str(record["topic"]), str(record["name"])))
            elif "retired" in record:
                retired.append(
                    Retired(
                        slug=str(record["retired"]),
                        name=str(record["name"]),
                        since=_moment(record["since"]),
                    )
                )
            else:
                raise ValueError("expected an output, topic, retired or item record")
        except (KeyError, ValueError, TypeError) as e:
            detail = f"missing {e}" if isinstance(e, KeyError) else str(e)
            raise StateError(f"{name}:{number}: invalid state record: {detail}") from e
    return State(
        inputs=inputs,
        outputs=tuple(outputs),
        topics=tuple(topics),
        retired=tuple(retired),
        entries=tuple(entries),
        summary=summary,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Tail:
    """A state file read but for its item records, which stay bytes.

    A build that only adds items at the top of its sources, or changes those
    of their newest years (``site.py``), reads the records of the newest
    years alone (``Tail.entries``), and writes the others back as they are
    (``Tail.before``), followed by the new ones.
    """

    inputs: str
    outputs: tuple[OutputRecord, ...]
    topics: tuple[tuple[str, str], ...]
    retired: tuple[Retired, ...]
    summary: Summary
    name: str  # the file's, for messages
    data: bytes = field(repr=False)  # the whole file
    at: int  # where the item records start in ``data``
    size: int  # their size in bytes
    offsets: tuple[tuple[int, int], ...]  # (year, its first record's offset)
    last: Entry | None  # the last record, of the newest recorded day
    sha256: hashlib._Hash = field(repr=False)  # of the item records

    def records(self) -> bytes:
        return self.data[self.at : self.at + self.size]

    def entries(self, year: int, until: int | None = None) -> list[Entry]:
        """The records of the items of ``year`` and later years, up to those
        of ``until`` (not included; ``None``: to the last)."""
        start, end = self._offset(year), self._offset(until)
        records = self.data[self.at + start : self.at + end]
        return [_entry(record) for _, record in _records(records, self.name)]

    def entries_of(self, day: dt.date) -> list[Entry]:
        """The records of ``day`` and later days: the file's last ones, read
        from its end."""
        found: list[Entry] = []
        end = self.at + self.size
        while end > self.at:
            end, entry = _record_before(self.data, self.at, end)
            if entry.day < day:
                break
            found.append(entry)
        return found[::-1]

    def before(self, year: int) -> Tail:
        """This tail with the records of ``year`` and later years left out:
        a build that reads those years again writes their records anew."""
        size = self._offset(year)
        end = self.at + size
        return dataclasses.replace(
            self,
            size=size,
            offsets=tuple((y, at) for y, at in self.offsets if y < year),
            last=_record_before(self.data, self.at, end)[1] if size else None,
            sha256=hashlib.sha256(memoryview(self.data)[self.at : end]),
        )

    def _offset(self, year: int | None) -> int:
        """Where the records of ``year`` or the first later year start."""
        if year is None:
            return self.size
        return next((at for y, at in self.offsets if y >= year), self.size)


def load_tail(data: bytes, name: str, salt: str | None = None) -> Tail | None:
    """The state file ``data`` as a ``Tail``, its summary and item records
    checked by their sha256; ``None`` for a file without a summary (format
    1) or whose summary or records are not as the last build wrote them
    (``load_state`` then reads and checks the whole file), or, given a
    ``salt``, one written under another (its records are not hashed).

    Raises:
        StateError: a record before the item records is not valid.
    """
    end = data.rfind(b"\n", 0, len(data) - 1) + 1
    if not data.startswith(b'{"format": "'):
        return None
    found = _summary_record(data[end:])
    if found is None:
        return None
    try:
        summary = _summary(found)
        if salt is not None and summary.salt != salt:
            return None  # other code or config: a whole build, which reads all
        at, size, sha256 = (
            int(found["records"][0]),
            int(found["records"][1]),
            str(found["records"][2]),
        )
        offsets = tuple((int(y), int(o)) for y, o in found["offsets"])
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    if not 0 < at <= at + size == end:
        return None
    digest = hashlib.sha256(memoryview(data)[at:end])
    if digest.hexdigest() != sha256:
        return None  # the records were edited: read as a whole, checked
    state = load_state(data[:at], name)
    last = _record_before(data, at, end)[1] if size else None
    return Tail(
        inputs=state.inputs,
        outputs=state.outputs,
        topics=state.topics,
        retired=state.retired,
        summary=summary,
        name=name,
        data=data,
        at=at,
        size=size,
        offsets=offsets,
        last=last,
        sha256=digest,
    )


def _summary_record(line: bytes) -> dict[str, Any] | None:
    """The fields of a summary record (the state file's last line), checked
    by its ``check``; None for any other line, or a summary edited since."""
    if not line.startswith(b'{"summary": '):
        return None
    try:
        record = json.loads(line)
        found = record["summary"]
        check = found.pop("check")
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return found if check == _check(record) else None


def summary_salt(line: bytes) -> str | None:
    """The salt of a summary record as written (``Summary.salt``); None for
    any other line."""
    found = _summary_record(line)
    salt = None if found is None else found.get("salt")
    return salt if isinstance(salt, str) else None


def summary_fits(line: bytes, at: int) -> bool:
    """Whether ``line``, which starts at ``at`` in a state file, is a summary
    as written, and the item records it names end there: a file cut short or
    lengthened since (damaged, or edited by hand) is not as it was written."""
    found = _summary_record(line)
    if found is None:
        return False
    try:
        start, size = int(found["records"][0]), int(found["records"][1])
    except (KeyError, ValueError, TypeError, IndexError):
        return False
    return 0 < start <= start + size == at


def _record_before(data: bytes, at: int, end: int) -> tuple[int, Entry]:
    """The item record on the line that ends at ``end`` (item records start
    at ``at``), and where that line starts."""
    start = max(data.rfind(b"\n", at, end - 1) + 1, at)
    return start, _entry(json.loads(data[start:end]))


def _summary(record: Any) -> Summary:
    return Summary(
        salt=str(record["salt"]),
        warnings=int(record["warnings"]),
        twins=int(record["twins"]),
        sources=tuple(map(_source, record["sources"])),
        feeds=tuple((str(key), int(count)) for key, count in record["feeds"]),
        years=tuple(
            YearRecord(year=int(y), count=int(c), first=_moment(f), last=_moment(la))
            for y, c, f, la in record["years"]
        ),
        warned=(
            None
            if "warned" not in record
            else tuple((int(year), int(count)) for year, count in record["warned"])
        ),
    )


def _source(record: Any) -> SourceRecord:
    name, size, lead, cuts = record
    return SourceRecord(
        name=str(name),
        size=int(size),
        lead=int(lead),
        cuts=tuple(
            Cut(at=int(at), low=int(low), high=int(high), sha256=str(sha))
            for at, low, high, sha in cuts
        ),
    )


def _lines(data: bytes | BinaryIO) -> Iterator[bytes]:
    """The lines of a state file, without their "\\n", one at a time, from
    its bytes or from the file itself: a large state is never held whole."""
    for line in io.BytesIO(data) if isinstance(data, bytes) else data:
        yield line[:-1] if line.endswith(b"\n") else line


_ITEM = b'{"id": '  # how an item record starts, as written (_entry_line)


def _records(
    data: bytes | BinaryIO, name: str, skip: bytes = b""
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The records of a state file with their line numbers, blank lines skipped,
    one at a time: a large state is never held as lines or objects at once.
    Lines that start with ``skip`` (unless empty) are skipped too, unread."""
    decode = json.JSONDecoder().decode
    for number, raw in enumerate(_lines(data), start=1):
        if not raw.strip() or (skip and raw.startswith(skip)):
            continue
        try:
            record = decode(raw.decode("utf-8"))
        except ValueError:
            record = None
        if not isinstance(record, dict):  # json.loads() as before, or its error
            record = _record(raw, name, number)
        yield number, record


def _record(raw: bytes, name: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(raw)
    except ValueError as e:
        raise StateError(f"{name}:{number}: expected a JSON object, found {e}") from e
    if not isinstance(record, dict):
        raise StateError(f"{name}:{number}: expected a JSON object")
    return record


def _header(record: dict[str, Any], name: str) -> str:
    if record.get("format") not in _FORMATS:
        raise StateError(
            f"{name}:1: expected format {FORMAT!r}, found {record.get('format')!r}"
        )
    return str(record.get("inputs", ""))


def _output(record: dict[str, Any], name: str, number: int) -> OutputRecord:
    try:
        return OutputRecord(
            path=str(record["output"]),
            size=int(record["size"]),
            sha256=str(record["sha256"]),
            key=str(record.get("key", "")),
        )
    except (KeyError, ValueError, TypeError) as e:
        raise StateError(f"{name}:{number}: invalid output record: {e}") from e


@functools.lru_cache(maxsize=1 << 16)
def _day(text: str) -> dt.date:
    """A record's day; the records of one day share one object."""
    return dt.date.fromisoformat(text)


@functools.lru_cache(maxsize=1 << 12)
def _slugs(slugs: tuple[str, ...]) -> tuple[str, ...]:
    """A record's topics; equal lists of many records share one tuple."""
    return slugs


def _entry(record: dict[str, Any]) -> Entry:
    entry_id = str(record["id"])
    day = _day(record["day"])
    published = _moment(record["published"])
    if record["updated"] == record["published"]:
        updated = published  # most records: one object for both
    else:
        updated = _moment(record["updated"])
    if updated < published:
        raise ValueError("updated is before published")
    fingerprint = str(record["fingerprint"])
    block = str(record.get("block", ""))
    if not fingerprint or not _HEX.fullmatch(fingerprint) or not _HEX.fullmatch(block):
        raise ValueError("fingerprint and block must be hex digests")
    sketch = bytes.fromhex(str(record["sketch"]))
    if len(sketch) % 4:
        raise ValueError("sketch must be 8-digit hex numbers")
    topics = record.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ValueError("topics must be a list of slugs")
    at = record.get("at", [])
    if (
        not isinstance(at, list)
        or len(at) not in (0, 4)
        or not all(type(n) is int for n in at)
    ):
        raise ValueError("at must be four numbers")
    return Entry(
        at=place(*at) if at else 0,
        id=entry_id,
        day=day,
        published=published,
        updated=updated,
        fingerprint=fingerprint,
        sketch=sketch,
        block=block,
        topics=_slugs(tuple(topics)),
        link=str(record.get("link", "")),
    )
