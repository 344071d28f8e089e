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
   config), ``"topics"`` and, if it has one, its ``@link:`` as ``"link"``:
   enough for the next build to plan it without reading its text again.

Parsing and writing are pure; ``publish.py`` reads and writes the file.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from feedpub.errors import StateError

FORMAT = "feedpub-state/1"
STATE_FILE = "feedpub-state.jsonl"  # its name in the output folder


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One published item as the state remembers it."""

    id: str
    day: dt.date
    published: dt.datetime
    updated: dt.datetime
    fingerprint: str  # digest of everything a reader sees of the item
    sketch: bytes  # bottom-k hashes of its words, packed; for fuzzy matching
    # What a later build needs to plan the item without reading its text again
    # when its source block is unchanged (see site.py): the block's digest
    # ("" when unknown), its topics and its explicit @link: ("" for none).
    block: str = ""
    topics: tuple[str, ...] = ()
    link: str = ""


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


def state_chunks(state: State) -> Iterator[bytes]:
    """``dump_state`` in pieces of a few thousand lines: a large state is
    written without ever being held whole (100,000 items: about 50 MB)."""
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
    yield ("\n".join(lines) + "\n").encode("utf-8")
    entries = sorted_entries(state.entries)
    for start in range(0, len(entries), 4096):
        chunk = map(_entry_line, entries[start : start + 4096])
        yield ("\n".join(chunk) + "\n").encode("utf-8")


def _entry_line(e: Entry) -> str:
    """An item record, written by hand as _line() would: there is one per item
    ever published. Digests are hex (checked by _entry()): nothing to escape."""
    published = _stamp(e.published)
    updated = published if e.updated == e.published else _stamp(e.updated)
    return (
        f'{{"id": {_string(e.id)}, "day": "{e.day}",'
        f' "published": "{published}", "updated": "{updated}",'
        f' "fingerprint": "{e.fingerprint}", "sketch": "{e.sketch.hex()}"{_memo(e)}}}'
    )


def _memo(entry: Entry) -> str:
    """The optional fields of an item record, each left out when empty."""
    if not entry.block:
        return ""
    link = f', "link": {_string(entry.link)}' if entry.link else ""
    topics = ", ".join(map(_string, entry.topics))
    return f', "block": "{entry.block}", "topics": [{topics}]{link}'


def sorted_entries(entries: Iterable[Entry]) -> list[Entry]:
    """Entries in the file's order: by day, then by the number in the id."""
    return sorted(entries, key=lambda e: (e.day, len(e.id), e.id))


def read_inputs(first_line: bytes, name: str) -> str:
    """The inputs digest from a state file's first line, without the rest.

    Raises:
        StateError: the line is not a header of this format.
    """
    return _header(_record(first_line, name, 1), name)


def load_state(data: bytes | BinaryIO, name: str) -> State:
    """Parse a state file: its bytes, or the file opened in binary mode (read
    line by line).

    Raises:
        StateError: naming ``name`` and the line that is not valid.
    """
    inputs = ""
    outputs: list[OutputRecord] = []
    topics: list[tuple[str, str]] = []
    retired: list[Retired] = []
    entries: list[Entry] = []
    ids: set[str] = set()
    for number, record in _records(data, name):
        try:
            if number == 1:
                inputs = _header(record, name)
            elif "id" in record:
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
    )


def _lines(data: bytes | BinaryIO) -> Iterator[bytes]:
    """The lines of a state file, without their "\\n", one at a time, from
    its bytes or from the file itself: a large state is never held whole."""
    for line in io.BytesIO(data) if isinstance(data, bytes) else data:
        yield line[:-1] if line.endswith(b"\n") else line


def _records(data: bytes | BinaryIO, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The records of a state file with their line numbers, blank lines skipped,
    one at a time: a large state is never held as lines or objects at once."""
    decode = json.JSONDecoder().decode
    for number, raw in enumerate(_lines(data), start=1):
        if not raw.strip():
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
    if record.get("format") != FORMAT:
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
    return Entry(
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
