"""Match this build's items to the state of earlier builds: ids and dates that last.

The core derives an id from an item's date and its place among that day's items
(``normalise.py``). That id alone would move when same-day items are reordered
or one of them is deleted. So the first build that publishes an item records it
in the state file, and every later build matches its items to those records,
day by day:

1. **Unchanged items**: an item whose fingerprint (a digest of its text and of
   the title, byline, link and tags it gives; not of a title cut from the
   text, nor of its topics, which the config makes) equals a record's keeps
   that record as it is. Records written before that rule hold a fingerprint
   of title, text, byline, link, tags and topics: an item with that one is
   unchanged too, and its record takes the new fingerprint.
2. **Edited items**: of the items and records of the same day left over, the
   pair whose words are most alike is matched first, then the next, as long as
   their likeness (the Jaccard index of their word sets, estimated from a
   bottom-32 sketch of word hashes) is at least ``LIKENESS``. The item keeps
   the record's id and publication time; its ``updated`` becomes the time of
   this build, which is stored, so it moves once per real change.
3. **New items**: whatever is left is new. It gets the core's id unless a
   record (also one of a removed item) holds that id already, else the next
   free number of its day. Its time is the core's, moved just after the
   newest older item of its day if needed, and before the oldest published
   item listed above it (a minute before, or halfway when they are closer),
   so the day keeps the source's order wherever there is a second between,
   and no two items of a day share a time.

An item's date is part of its identity: changing an item's date publishes it
as a new item. Records that match no item are kept, so an item removed and
added again gets its old id and date back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from feedpub.model import Item, amend, evolve, item_anchor, item_number
from feedpub.state import Entry

LIKENESS = 0.3  # least likeness of words for an edit; unrelated news scores < 0.1
SKETCH_SIZE = 32
_WORD = re.compile(r"\w{4,}")  # short words (der, und, ist) say little
_STEP = dt.timedelta(minutes=1)
_T = TypeVar("_T")


def fingerprint(item: Item) -> str:
    """A digest of what the source says of the item, except its date: its
    text, and the title, byline, link and tags it gives.

    Not what the config makes of them: a title cut from the text (at
    ``title_length``) or the topics its keywords find. A change to the
    config alone edits no item, so it changes no item's ``updated``; readers
    see the new titles and topic feeds, not every item marked as updated.
    """
    return _digest(_given_title(item), item)


def _digest(title: str, item: Item, *more: str) -> str:
    """The fingerprint of ``item`` with ``title``, and ``more`` after it."""
    parts = (
        title,
        *item.paragraphs,
        "\x1f",
        item.author or "",
        item.link,
        "\x1f".join(item.tags),
        *more,
    )
    return hashlib.blake2b("\x1e".join(parts).encode(), digest_size=8).hexdigest()


def _given_title(item: Item) -> str:
    """The title the item gives (``@title:``, or its day when it has no
    text); "" when it is taken from its text."""
    return "" if item.title_end or item.title_cut else item.given_title


def legacy_fingerprint(item: Item, topics: tuple[str, ...] | None = None) -> str:
    """The fingerprint that records written before topics and derived titles
    were left out of it hold: an item whose record has it is that item,
    unchanged, and the record gets its ``fingerprint`` in its place.

    ``topics``: the topics to count (those its record kept, which the config
    of that build gave); default: the item's."""
    return _digest(
        item.title, item, "\x1f".join(item.topics if topics is None else topics)
    )


def sketch(item: Item, tokens: Iterable[str] | None = None) -> bytes:
    """The smallest ``SKETCH_SIZE`` CRC-32s of the item's distinct words,
    ascending, packed big-endian (a tuple of ints would cost ten times the
    memory); two words with the same CRC-32 both count.

    The words are the runs of 4+ word characters of the casefolded title and
    text. Such a run never crosses white space, and casefolding maps each
    character on its own, so the words are those of the text's distinct
    white-space-separated tokens (``tokens``, ``Item.tokens()`` if not
    given), each casefolded: a token's words and their hashes are worked
    out on their own, and the tokens met most recently are remembered
    (``_TokenWords``).
    """
    words: dict[str, int] = {}
    known = _TOKEN_WORDS.newer.get
    for token in item.tokens() if tokens is None else tokens:
        found = known(token)
        if found is None:
            found = _TOKEN_WORDS.add(token)
        if found:
            words |= found
    hashes = sorted(words.values())[:SKETCH_SIZE]
    return struct.pack(f">{len(hashes)}I", *hashes)


class _TokenWords:
    """Each token's words and their CRC-32s, for the tokens met recently: a
    real archive's vocabulary has no bound, and a token's entry takes a few
    hundred bytes. Two generations: when the newer holds ``kept`` tokens, it
    becomes the older, and the older is forgotten; a token of the older met
    again moves to the newer."""

    def __init__(self, kept: int) -> None:
        self.newer: dict[str, dict[str, int]] = {}
        self.older: dict[str, dict[str, int]] = {}
        self.kept = kept

    def add(self, token: str) -> dict[str, int]:
        """The words of a token not in the newer generation."""
        found = self.older.pop(token, None)
        if found is None:
            words = _WORD.findall(token.casefold())
            found = {word: zlib.crc32(word.encode()) for word in words}
        if len(self.newer) >= self.kept:
            self.older, self.newer = self.newer, {}
        self.newer[token] = found
        return found


_TOKEN_WORDS = _TokenWords(1 << 12)  # at most 8,192 tokens in all


def likeness(a: bytes, b: bytes) -> float:
    """Estimate the Jaccard index of two word sets from their bottom-k sketches."""
    if not a or not b:
        return 1.0 if not a and not b else 0.0
    set_a = set(struct.unpack(f">{len(a) // 4}I", a))
    set_b = set(struct.unpack(f">{len(b) // 4}I", b))
    union = sorted(set_a | set_b)[:SKETCH_SIZE]
    both = sum(1 for h in union if h in set_a and h in set_b)
    return both / len(union)


def reconcile(
    items: Sequence[Item],
    entries: Sequence[Entry],
    now: dt.datetime,
    link: Callable[[Item, str], str] | None = None,
    *,
    in_place: bool = False,
    prints: list[str] | None = None,
    sketches: list[bytes] | None = None,
) -> tuple[list[Item], list[Entry]]:
    """Give items the ids and dates recorded for them; record the new ones.

    Args:
        items: normalised, tagged items in source order, with the core's ids.
        entries: the records of earlier builds (may be empty).
        now: the time of this build, used only as the ``updated`` of an edit.
        link: gives an item with its final anchor (the second argument) its
            link, in the same step (see ``plan.item_link``); None: links stay.
        in_place: ``items`` is a list the caller lets go, and nothing else
            holds its items: each item takes its id, times, fingerprint and
            link itself, and stays in its place, so that a large build never
            holds two copies of every item (nor makes one); that list is
            returned. ``entries``, if a
            list, is let go too: emptied once its records are sorted by
            day, so that each day's go once matched and the records made
            for a day can take the memory of those of the days before.
        prints: the ``fingerprint`` of each item, in the order of ``items``,
            worked out where the items were read; None: worked out here.
        sketches: the ``sketch`` of each item, the same way.

    Returns:
        The items (same order) and all records for the next state: every old
        record, updated where its item changed, plus one per new item. An old
        record that nothing changed is returned as the same object, by which
        ``site.compile_appended`` tells that a day's records stay as written.
    """
    if prints is None:
        prints = [fingerprint(i) for i in items]
    marks = _Marks(items, prints, sketches)
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        by_day[item.day].append(index)
    records: dict[dt.date, list[Entry]] = defaultdict(list)
    for entry in entries:
        records[entry.day].append(entry)
    if in_place and isinstance(entries, list):
        entries.clear()

    # Each item is read (by _match, then _assign) before its result takes its
    # place, and days are matched one by one: no result is read as an item.
    if in_place and isinstance(items, list):
        own, result = True, items
    else:
        own, result = False, list(items)
    kept: list[Entry] = []
    for day, indexes in by_day.items():
        matched, unmatched = _match(indexes, marks, records.pop(day, []))
        kept += map(_gone, unmatched)
        kept += _assign(
            day,
            indexes,
            marks,
            matched,
            unmatched,
            now,
            result,
            link,
            own,
        )
    for rest in records.values():
        kept += map(_gone, rest)
    return result, kept


class _Marks:
    """The items being matched, with what identifies each: its fingerprint,
    and its sketch (given, or worked out when asked)."""

    def __init__(
        self, items: Sequence[Item], prints: list[str], sketches: list[bytes] | None
    ) -> None:
        self.items = items
        self.prints = prints
        self._sketches = sketches

    def sketch(self, index: int, item: Item) -> bytes:
        """The sketch of ``item``, the item at ``index``."""
        given = self._sketches
        return sketch(item) if given is None else given[index]


def _gone(entry: Entry) -> Entry:
    """The record of an item no longer in the sources: it has no place."""
    return evolve(entry, at=0) if entry.at else entry


def _match(
    indexes: list[int],
    marks: _Marks,
    day_entries: list[Entry],
) -> tuple[dict[int, tuple[Entry, bool]], list[Entry]]:
    """Match one day's items to its records.

    Returns:
        item index -> (record, unchanged?), and the records left unmatched.
    """
    items, prints = marks.items, marks.prints
    matched: dict[int, tuple[Entry, bool]] = {}
    free = list(day_entries)

    def older(index: int, entry: Entry) -> str:
        # With the topics the record kept: those of its build's config.
        return legacy_fingerprint(items[index], entry.topics if entry.block else None)

    # 1. same fingerprint, first come first served; then the same with the
    # fingerprint that older records hold
    for fingerprint in (lambda index, _: prints[index], older):
        for index in (i for i in indexes if i not in matched):
            for entry in free:
                if entry.fingerprint == fingerprint(index, entry):
                    matched[index] = (entry, True)
                    free.remove(entry)
                    break
    open_items = [i for i in indexes if i not in matched]
    if open_items and free:  # 2. most alike pairs first
        sketches = {i: marks.sketch(i, items[i]) for i in open_items}
        pairs = sorted(
            (
                -score,
                abs(item_number(entry.id) - item_number(items[i].id)),
                i,
                entry.id,
            )
            for i in open_items
            for entry in free
            if (score := likeness(sketches[i], entry.sketch)) >= LIKENESS
        )
        by_id = {e.id: e for e in free}
        for _, _, index, entry_id in pairs:
            if index in matched or entry_id not in by_id:
                continue
            matched[index] = (by_id.pop(entry_id), False)
    used = {e.id for e, _ in matched.values()}
    return matched, [e for e in day_entries if e.id not in used]


def _assign(
    day: dt.date,
    indexes: list[int],
    marks: _Marks,
    matched: dict[int, tuple[Entry, bool]],
    unmatched: list[Entry],
    now: dt.datetime,
    result: list[Item],
    link: Callable[[Item, str], str] | None,
    own: bool = False,
) -> list[Entry]:
    """Set ids and times of one day's items; return the records of its items.

    Records of removed items (``unmatched``) keep their ids reserved. ``own``:
    the items take them themselves (see ``reconcile``'s ``in_place``), so
    all that is read of an item is read before its result is made.
    """
    items, prints = marks.items, marks.prints
    records: list[Entry] = []
    held = [e for e, _ in matched.values()] + unmatched
    taken = {e.id for e in held}
    numbers = {item_number(e.id) for e in held}
    used_times = {e.published for e, _ in matched.values()}
    # For each item, the oldest time of the matched items listed above it:
    # a new item goes before that one, as the source lists it.
    newer: dict[int, dt.datetime] = {}
    ceiling: dt.datetime | None = None
    for index in indexes:  # newest (first listed) first
        if ceiling is not None:
            newer[index] = ceiling
        if index in matched:
            published = matched[index][0].published
            ceiling = published if ceiling is None else min(ceiling, published)
    newest_older: dt.datetime | None = None
    for index in reversed(indexes):  # oldest (last listed) first
        item = items[index]
        if index in matched:
            entry, same = matched[index]
            if same:
                updated = entry.updated
                record = _memo(entry, item)
                if record.fingerprint != prints[index]:  # an older record's
                    record = evolve(record, fingerprint=prints[index])
                records.append(record)
            else:
                updated = max(now, entry.updated, entry.published)
                records.append(
                    evolve(
                        _memo(entry, item),
                        updated=updated,
                        fingerprint=prints[index],
                        sketch=marks.sketch(index, item),
                    )
                )
            # The item keeps its own strings and time where they equal the
            # record's: the records go before the outputs render
            # (compile_site's ``aside``), and with them, all they hold.
            result[index] = _with(
                item,
                _own(item.id, entry.id),
                (_own(item.published, entry.published), updated),
                prints[index],  # the record's fingerprint now
                link,
                own,
            )
            newest_older = max(newest_older or entry.published, entry.published)
            continue
        item_id = item.id
        if item_id in taken:
            number = max(numbers | {0}) + 1
            item_id = f"{item.id.rpartition(':')[0]}:{number}"
        taken.add(item_id)
        numbers.add(item_number(item_id))
        moment = item.published
        if newest_older is not None and moment <= newest_older:
            moment = newest_older + _STEP
        if index in newer and moment >= newer[index]:
            moment = _between(newest_older, newer[index], moment)
        while moment in used_times:
            moment += dt.timedelta(seconds=1)
        used_times.add(moment)
        newest_older = moment
        block, topics, explicit = _memo_fields(item)
        records.append(
            Entry(
                id=item_id,
                day=day,
                published=moment,
                updated=moment,
                fingerprint=prints[index],
                sketch=marks.sketch(index, item),
                block=block,
                topics=topics,
                link=explicit,
                at=item.at,
            )
        )
        result[index] = _with(item, item_id, (moment, None), prints[index], link, own)
    return records


def _own(mine: _T, recorded: _T) -> _T:
    """``recorded``, or ``mine`` when it equals it (the same value, held once)."""
    return mine if mine == recorded else recorded


def _between(
    older: dt.datetime | None, newer: dt.datetime, moment: dt.datetime
) -> dt.datetime:
    """A time for a new item listed between items published at ``older``
    (None: none below it) and ``newer``: a minute before ``newer``, or the
    middle in whole seconds when the gap is smaller; ``moment`` when there
    is no room (items reordered in the source, or a second apart)."""
    if older is None or newer - older > 2 * _STEP:
        return newer - _STEP
    half = (newer - older).total_seconds() // 2
    return older + dt.timedelta(seconds=half) if half >= 1 else moment


def _memo_fields(item: Item) -> tuple[str, tuple[str, ...], str]:
    """What a record keeps to plan an unchanged item without its text: the
    block digest (``Item.block``; "" for a block that gave a warning, which
    every build that reads the sources reads again), topics and explicit
    link (which a build that adds items at the top plans its window with,
    warning or not: ``site.compile_appended``)."""
    return (item.block, item.topics, item.link)


def _memo(entry: Entry, item: Item) -> Entry:
    """The record with the item's block digest, topics, explicit link and
    place in the sources."""
    fields = _memo_fields(item)
    if (entry.block, entry.topics, entry.link) == fields and entry.at == item.at:
        return entry
    block, topics, link = fields
    return evolve(entry, block=block, topics=topics, link=link, at=item.at)


def _with(
    item: Item,
    item_id: str,
    times: tuple[dt.datetime, dt.datetime | None],
    print_: str,
    link: Callable[[Item, str], str] | None,
    own: bool = False,
) -> Item:
    """The item with its final id, anchor, times, fingerprint and link; with
    ``own``, the item itself takes them (nothing else holds it)."""
    published, updated = times
    anchor = item_anchor(item.day, item_number(item_id))
    if updated is not None and updated <= published:
        updated = None
    change = amend if own else evolve
    return change(
        item,
        id=item_id,  # and so its anchor (Item.anchor)
        published=published,
        updated=updated,
        fingerprint=print_,
        link=item.link if link is None else link(item, anchor),
    )
