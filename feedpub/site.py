"""Wire the pure stages: documents -> items -> plan -> rendered files.

Nothing here touches the disk or the clock; ``build.py`` is the shell that
reads the sources and the state, and publishes what this module renders.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import itertools
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from feedpub.config import Config
from feedpub.errors import ConfigError, SourceError, ValidationError
from feedpub.identity import fingerprint, reconcile, sketch
from feedpub.keys import spec_key
from feedpub.model import (
    ArchivePage,
    ArchiveSpec,
    Block,
    Diagnostic,
    Item,
    evolve,
    item_anchor,
    item_number,
)
from feedpub.normalise import day_positions, normalise_item
from feedpub.parse import block_at, ends_with_blank_line, read_block, split_source
from feedpub.plan import (
    ATOM,
    EMBED_SCRIPT,
    JSON_FEED,
    KINDS,
    OPML,
    RSS,
    STATE,
    STYLESHEET,
    TOPIC_DIR,
    Plan,
    Window,
    anchor_link,
    archive_path,
    item_link,
    listing,
    plan_feeds,
)
from feedpub.render.archive import FragmentCache, render_archive
from feedpub.render.assets import embed_script
from feedpub.render.jsonfeed import render_json_feed
from feedpub.render.opml import render_opml
from feedpub.render.pages import render_embed_page, render_page, render_stylesheet
from feedpub.render.rss_atom import render_atom, render_rss
from feedpub.state import (
    NO_ITEMS,
    Aside,
    Cut,
    Entry,
    HeldRecords,
    OutputRecord,
    Retired,
    SourceRecord,
    State,
    Summary,
    Tail,
    YearRecord,
    appended_chunks,
    entry_order,
    place,
    sorted_entries,
    state_chunks,
    unplace,
)
from feedpub.tagging import Tagger
from feedpub.validate import check_fragments, validate_archive, validate_outputs

if TYPE_CHECKING:
    from feedpub.forms import Kind

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_Spec = TypeVar("_Spec")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """What a build made: the items, the warnings and the rendered files."""

    # Every item in source order (but see ``appended``; with ``feed.history
    # = "recent"``, those of the years read); with a salt, those of
    # unchanged days are stubs without text (``Item.pending``;
    # ``ItemLoader.item`` reads one).
    items: tuple[Item, ...]
    warnings: tuple[Diagnostic, ...]
    outputs: dict[str, bytes]  # rendered this time, by path
    # The next state; its entries are empty when they were put aside
    # (``compile_site``'s ``aside``): the state file written holds them.
    state: State = field(default_factory=State)
    kept: tuple[str, ...] = ()  # paths not rendered again: same key, file in place
    count: int = 0  # items in the sources (published: of the years read)
    # Whether only items added at the top were read (compile_appended); then
    # ``items`` are those of the newest years, oldest day first, then the
    # new ones, and ``state.entries`` the records of the new items (the file
    # written holds all).
    appended: bool = False
    # The year from which the items were read again, when only the newest
    # years were (compile_edited; 0: not so); ``items`` and ``state.entries``
    # are then as with ``appended``, the items read again in place of new ones.
    read_from: int = 0


def compile_items(
    documents: Sequence[tuple[str, bytes]],
    config: Config,
    state: State | None = None,
    now: dt.datetime = _EPOCH,
) -> tuple[list[Item], list[Diagnostic]]:
    """Parse, normalise, tag, identify and link the documents' items. Pure.

    Args:
        documents: ``(name, bytes)`` in build order.
        config: the validated configuration.
        state: what earlier builds published; ``None``: ids as the core derives.
        now: the time of this build, the ``updated`` of items edited since.

    Raises:
        SourceError: listing every problem in every document.
    """
    items, warnings, _ = _compile(documents, config, state, now, salt="")
    return items, warnings


def block_digest(block: Block, salt: str) -> str:
    """A digest of a source block under the code and config that ``salt`` names.

    Equal digests give equal normalised and tagged items (the core is pure), so
    a block with the digest its state record holds need not be read again.
    """
    digest = hashlib.blake2b(salt.encode(), digest_size=12)
    digest.update(f"{block.header}\n".encode())
    digest.update(block.body_bytes())
    return digest.hexdigest()


class ItemLoader:
    """Reads the text of stubs (``Item.pending``) when an output shows them.

    The last ``size`` items loaded are kept: an item is in several outputs
    (its feeds' subscription documents, pages and archives), mostly in a row.
    """

    def __init__(self, config: Config, size: int = 4096) -> None:
        self._config = config
        self._tagger = Tagger(config.topics)
        self._loaded: OrderedDict[int, tuple[Item, Item]] = OrderedDict()
        self._size = size

    def item(self, stub: Item) -> Item:
        """The full item for a stub; any other item as it is."""
        if stub.pending is None:
            return stub
        found = self._loaded.get(id(stub))
        if found is not None and found[0] is stub:
            self._loaded.move_to_end(id(stub))
            return found[1]
        ignored: list[Diagnostic] = []  # the block gave none when it was recorded
        raw = read_block(stub.pending)  # its id and time come from the stub
        item = normalise_item(raw, 0, 1, self._config, ignored, ignored)
        item = self._tagger.tag(item, ignored)
        full = evolve(
            item,
            id=stub.id,
            given_anchor=stub.given_anchor,
            published=stub.published,
            updated=stub.updated,
            link=stub.link,
            fingerprint=stub.fingerprint,
            block=stub.block,
            at=stub.at,
        )
        self._loaded[id(stub)] = (stub, full)
        if len(self._loaded) > self._size:
            self._loaded.popitem(last=False)
        return full

    def spec(self, spec: _Spec) -> _Spec:
        """A feed, page or archive spec with its stubs (and its feed's) loaded."""
        changes: dict[str, object] = {}
        items: tuple[Item, ...] = getattr(spec, "items", ())
        if any(i.pending is not None for i in items):
            changes["items"] = tuple(self.item(i) for i in items)
        feed = getattr(spec, "feed", None)
        if feed is not None and (loaded := self.spec(feed)) is not feed:
            changes["feed"] = loaded
        return dataclasses.replace(spec, **changes) if changes else spec  # type: ignore[type-var]


def _compile(
    documents: Sequence[tuple[str, bytes]],
    config: Config,
    state: State | None,
    now: dt.datetime,
    salt: str,
    release: bool = False,
    *,
    recent: bool = False,
    records: Callable[[], Sequence[Entry]] | None = None,
    spread: Spread | None = None,
) -> tuple[list[Item], list[Diagnostic], State]:
    """The items of the documents, in source order, and the next state (see
    ``compile_site``).

    ``recent``: the blocks are read a year at a time, the newest first, until
    every subscription feed is full (``_reached``); only the items of those
    years are returned and counted in the summary. The others are cut into
    blocks, so their headers are checked, but not read; their records from
    earlier builds stay in the state (at no place), so their ids and dates
    come back with them.
    """
    order = {name: index for index, (name, _) in enumerate(documents)}
    blocks, warnings, errors, sources, places = _split(documents, config)
    warned = warned_years(warnings, blocks)
    released = False  # whether only blocks hold the documents from here on
    if release and isinstance(documents, list):
        documents.clear()
        released = True
    previous = state or State()
    # Records given apart from the state are read now if they can give
    # stubs (written under this salt), else once the sources are read.
    early: Sequence[Entry] = previous.entries
    summary = previous.summary
    if records is not None and salt and summary is not None and summary.salt == salt:
        early, records = records(), None
    groups = _by_year(blocks) if recent else [(list(range(len(blocks))), blocks)]
    del blocks  # the stubs keep theirs; the others go once read
    groups.reverse()
    stubs: dict[int, Item] = {}
    full: list[int] = []
    tagged: list[Item] = []
    days: set[dt.date] = set()
    tagger = Tagger(config.topics)
    by_day: dict[dt.date, list[Entry]] = defaultdict(list)
    for entry in early if salt else ():
        by_day[entry.day].append(entry)
    counts: Counter[str] = Counter()  # items read by feed key, "": the main feed
    # Without records of earlier builds (from scratch), every item is new and
    # reconcile needs the fingerprint and sketch of each: they are worked
    # out as the items are read, where a helper process reads half of them.
    # With records, most items match theirs by fingerprint alone.
    marks: tuple[list[str], list[bytes]] | None = None
    if state is None and records is None:
        marks = ([], [])
    while groups:
        positions, part = groups.pop()
        digests = [block_digest(b, salt) for b in part] if salt else []
        found = _stubs(part, digests, by_day, config.base_url, places)
        stubs.update((positions[k], stub) for k, stub in found.items())
        unread = [k for k in range(len(part)) if k not in found]
        full += [positions[k] for k in unread]
        days.update(part[k].day for k in unread)
        ranks = day_positions([part[k].day for k in unread])
        reading = [
            (part[k], ranks[n], digests[k] if salt else "", places(part[k]))
            for n, k in reversed(list(enumerate(unread)))
        ]
        kept = list(found.values())
        del part, found, ranks
        start = len(tagged)
        # Only ``tagged`` may hold the items read: reconcile replaces each
        # in place, and the one it replaced goes.
        # Nothing else holds the sources' bytes once these blocks are read
        # (the caller's list let go, no stub, no year left): each run takes
        # a copy of its own lines, so that the documents go now and each
        # run's copy once it is read, not every byte at the end of the
        # reading, when the items peak.
        own = released and not stubs and not groups
        tagged += _read(
            reading,
            config,
            warnings,
            errors,
            tagger,
            warned,
            spread,
            own_lines=own,
            marks=marks,
        )
        reached = recent and _reached(counts, [*kept, *tagged[start:]], config)
        del kept
        if reached:
            break
    del groups, places, by_day, tagger
    if errors:
        raise SourceError(
            sorted(errors, key=lambda d: (order.get(d.source, -1), d.line))
        )
    warnings.sort(key=lambda d: (order.get(d.source, -1), d.line))
    # Records read only now, with the blocks gone, are held by these lists
    # alone: reconcile lets each day's go once matched, and the records it
    # makes take their place in memory.
    old = early if records is None else records()
    del early
    read_days = [e for e in old if e.day in days]
    others = [e for e in old if e.day not in days]
    del old
    base_url = config.base_url
    identified, entries = reconcile(
        tagged,
        read_days,
        now,
        lambda item, anchor: item_link(item, base_url, anchor),
        in_place=True,
        prints=None if marks is None else marks[0],
        sketches=None if marks is None else marks[1],
    )
    del tagged, read_days, marks  # now the same lists as identified, and emptied
    # The records of unchanged days: those of stubs at the stubs' places
    # (a day of unchanged items may have moved), the others at none (the
    # days of items gone, and with ``recent`` those of years not read).
    placed = {stub.id: stub.at for stub in stubs.values()}
    entries += [
        e if e.at == placed.get(e.id, 0) else evolve(e, at=placed.get(e.id, 0))
        for e in others
    ]
    del placed, others
    items: list[Item] = [*stubs.values(), *identified]
    positions = [*stubs, *full]
    items = [items[i] for i in sorted(range(len(items)), key=positions.__getitem__)]
    entries = sorted_entries(entries)
    next_state = State(
        inputs=previous.inputs,
        topics=tuple((t.slug, t.name) for t in config.topics),
        retired=_retired(previous.topics, previous.retired, config, now),
        entries=tuple(entries),
        summary=summarise(items, entries, config, salt, warned, sources),
    )
    return items, warnings, next_state


def _by_year(blocks: list[Block]) -> list[tuple[list[int], list[Block]]]:
    """The blocks of each year with their places in ``blocks``, newest first."""
    years: dict[int, tuple[list[int], list[Block]]] = defaultdict(lambda: ([], []))
    for index, block in enumerate(blocks):
        positions, part = years[block.day.year]
        positions.append(index)
        part.append(block)
    return [years[year] for year in sorted(years, reverse=True)]


def _reached(counts: Counter[str], items: Iterable[Item], config: Config) -> bool:
    """Count ``items``, those of the next year read, into ``counts`` (by feed
    key; "" is the main feed); whether the years read now reach as far as
    every subscription feed does: the main feed and each topic's hold their
    newest ``config.limit`` items and one more (the first their index pages
    link to as older), so every item they show and link to is among them."""
    for item in items:
        counts[""] += 1
        counts.update(item.topics)
    wanted = config.limit + 1
    return counts[""] >= wanted and all(
        counts[topic.slug] >= wanted for topic in config.topics
    )


def summarise(
    items: Sequence[Item],
    entries: Sequence[Entry],
    config: Config,
    salt: str,
    warned: Counter[int],
    sources: Sequence[SourceRecord],
) -> Summary:
    """The state's summary of a build's items and records (``state.Summary``);
    ``warned``: its warnings by year (``warned_years``)."""
    topics = {t.slug: 0 for t in config.topics}
    years: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        for slug in item.topics:
            if slug in topics:
                topics[slug] += 1
        years[item.day.year].append(item)
    return Summary(
        salt=salt,
        warnings=warned.total(),
        twins=twins(entries),
        sources=tuple(sources),
        feeds=(("", len(items)), *topics.items()),
        years=tuple(
            YearRecord(
                year=year,
                count=len(found),
                first=min(i.published for i in found),
                last=max(i.published for i in found),
            )
            for year, found in sorted(years.items())
        ),
        warned=tuple(sorted((year, n) for year, n in warned.items() if n)),
    )


def warned_years(
    warnings: Sequence[Diagnostic], blocks: Sequence[Block]
) -> Counter[int]:
    """``warnings`` (of ``split_source``) by the year of the item whose
    lines hold them: the block of their source whose header is the last at
    or above their line; above the first header, the first block's; 0 in a
    source without blocks (a build that reads only the newest years finds
    the same years for the same text: ``compile_edited``)."""
    wanted = {d.source for d in warnings}
    heads: dict[str, tuple[list[int], list[int]]] = {}
    for block in blocks:
        if block.source in wanted:
            lines, years = heads.setdefault(block.source, ([], []))
            lines.append(block.line)
            years.append(block.day.year)
    warned: Counter[int] = Counter()
    for warning in warnings:
        lines, years = heads.get(warning.source, ([], []))
        if years:
            warned[years[max(bisect.bisect_right(lines, warning.line) - 1, 0)]] += 1
        else:
            warned[0] += 1
    return warned


@dataclass(frozen=True, slots=True)
class Checks:
    """Where a build checks its archive documents by their parts: with
    ``validate.check_fragments`` and ``validate_archive`` here (``HERE``), or
    with functions that do the same elsewhere and raise ValidationError
    later, but before anything is published (``publish.Publication``'s)."""

    fragments: Callable[[str, Sequence[tuple[str, bytes, bytes]]], None]
    archive: Callable[[str, Kind, bytes, Sequence[str]], None]


HERE = Checks(fragments=check_fragments, archive=validate_archive)


Job = tuple[Block, tuple[int, int], str, int]  # see _read
RUN = 250  # blocks read as one run: what a helper process is handed at once


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadRun:
    """What reading a run of blocks gave (``read_run``)."""

    items: list[Item]
    warnings: list[Diagnostic]
    errors: list[Diagnostic]
    warned: Counter[int]  # the warnings by the year of their item
    # Asked for (``read_run``'s ``marked``): what identity.reconcile matches
    # each item by, its fingerprint and its sketch, in the order of ``items``.
    prints: list[str] = field(default_factory=list)
    sketches: list[bytes] = field(default_factory=list)


# Reads runs of blocks with a function and gives what each gave, in the
# order of the runs; it may let each run go (pop it) once read. The shell's
# build gives one that shares the runs with a second process (spread.py).
Spread = Callable[[list[list[Job]], Callable[[list[Job]], ReadRun]], Iterable[ReadRun]]


def in_turn(
    runs: list[list[Job]], read: Callable[[list[Job]], ReadRun]
) -> Iterator[ReadRun]:
    """Read the runs one after the other, each let go once read."""
    runs.reverse()
    while runs:
        yield read(runs.pop())


def _read(
    reading: list[Job],
    config: Config,
    warnings: list[Diagnostic],
    errors: list[Diagnostic],
    tagger: Tagger | None = None,
    warned: Counter[int] | None = None,
    spread: Spread | None = None,
    *,
    own_lines: bool = False,
    marks: tuple[list[str], list[bytes]] | None = None,
) -> list[Item]:
    """Read, normalise and tag the blocks of ``reading`` (block, (rank, count)
    on its day, digest, place), taking them from its end: each block goes
    once read, and its document with the last block that points into it.
    ``warned`` counts the warnings they give by the year of their item.

    The blocks are read in runs of ``RUN``, by ``spread`` (default: one after
    the other, here); what a run gives does not depend on where or when it
    was read, so the result is the same. ``own_lines``: give each run a copy
    of its lines (``_own_lines``); the blocks must be held by ``reading``
    alone. ``marks``: lists that take the fingerprint and the sketch of each
    item read (``read_run``'s ``marked``), in the order of the items."""
    tagger = tagger or Tagger(config.topics)
    runs: list[list[Job]] = []
    while reading:
        run = reading[-RUN:]
        del reading[-RUN:]
        if own_lines:
            _own_lines(run)
        runs.append(run)  # as ``reading``: its first block last
    tagged: list[Item] = []
    read = partial(read_run, config=config, tagger=tagger, marked=marks is not None)
    for done in (spread or in_turn)(runs, read):
        tagged += tagger.shared(done.items)
        warnings += done.warnings
        errors += done.errors
        if marks is not None:
            marks[0].extend(done.prints)
            marks[1].extend(done.sketches)
        if warned is not None:
            warned.update(done.warned)
    return tagged


# The slots' own setters: a block that only its job holds is moved, in
# place, into a copy of its lines (a new block for each would cost a third
# of a second at 100,000 items).
_DOCUMENT = getattr(Block, "document").__set__  # noqa: B009 - the slot, not the field
_HEAD = getattr(Block, "head").__set__  # noqa: B009
_START = getattr(Block, "start").__set__  # noqa: B009
_END = getattr(Block, "end").__set__  # noqa: B009


def _own_lines(run: list[Job]) -> None:
    """Point the blocks of ``run`` into a copy of the bytes they span in
    their document (one copy a document), in place: the same lines, and the
    same items read from them, but the document is no longer held by them.
    Offsets into the document (``Block.head``) are those of the copy after
    this; a block's place in its source (``state.place``) is the job's."""
    spans: dict[int, tuple[str | bytes, int, int]] = {}  # by id of the document
    for block, *_ in run:
        document, low, high = spans.get(
            id(block.document), (block.document, block.head, block.end)
        )
        spans[id(document)] = (document, min(low, block.head), max(high, block.end))
    copies = {key: (doc[low:high], low) for key, (doc, low, high) in spans.items()}
    del spans
    for block, *_ in run:
        lines, low = copies[id(block.document)]
        _DOCUMENT(block, lines)
        _HEAD(block, block.head - low)
        _START(block, block.start - low)
        _END(block, block.end - low)


def read_run(
    run: list[Job], *, config: Config, tagger: Tagger, marked: bool = False
) -> ReadRun:
    """Read, normalise and tag the blocks of ``run``, taken from its end;
    ``marked``: give each item's fingerprint and sketch too."""
    done = ReadRun(items=[], warnings=[], errors=[], warned=Counter())
    warnings, errors = done.warnings, done.errors
    while run:  # one item at a time: no stage holds every item's lines
        block, (rank, count), digest, at = run.pop()
        before = len(warnings)
        try:
            raw = read_block(block)
        except SourceError as e:
            errors.extend(e.diagnostics)
            continue
        if not raw.paragraphs:
            warnings.append(
                Diagnostic(source=raw.source, line=raw.line, message="item has no text")
            )
        item = normalise_item(raw, rank, count, config, warnings, errors, digest, at)
        tokens = item.tokens()  # split once, for the tags and the sketch
        item = tagger.tag(item, warnings, tokens, in_place=True)
        if len(warnings) > before:
            if item.block:
                # A block that gave a warning gets no digest: every build
                # reads it again and warns again.
                item = evolve(item, block="")
            done.warned[item.day.year] += len(warnings) - before
        done.items.append(item)
        if marked:
            done.prints.append(fingerprint(item))
            done.sketches.append(sketch(item, tokens))
    return done


def _split(
    documents: Sequence[tuple[str, bytes]],
    config: Config,
) -> tuple[
    list[Block],
    list[Diagnostic],
    list[Diagnostic],
    list[SourceRecord],
    Places,
]:
    """Every document's blocks, warnings and errors, in document order; a
    record of each document and where each block is (``Places``)."""
    blocks: list[Block] = []
    warnings: list[Diagnostic] = []
    errors: list[Diagnostic] = []
    sources: list[SourceRecord] = []
    places = Places()
    for number, (name, data) in enumerate(documents):
        try:
            found_blocks, found, failed = split_source(data, name)
        except SourceError as e:
            errors.extend(e.diagnostics)
            continue
        sources.append(source_record(config.source_name(name), data, found_blocks))
        if found_blocks:
            places.add(number, found_blocks[0].document)
        blocks += found_blocks
        del found_blocks  # blocks are let go one by one once read
        warnings += found
        errors += failed
    return blocks, warnings, errors, sources, places


def source_record(
    name: str, data: bytes, blocks: Sequence[Block], below: Sequence[Cut] = ()
) -> SourceRecord:
    """How a source was read: its size, where its first item header is, and
    where the years of its items part (``state.Cut``), with the sha256 of
    the bytes in between, by which a later build finds them at its end.

    ``blocks``: its blocks; with ``below``, the cuts of the last build from
    the first one under ``blocks`` down, whose bytes are the same, those
    above that cut alone (``_cuts``).
    """
    lead = len(data) - below[0].at if below else len(data)  # no item above
    if blocks:
        lead = blocks[0].head
    cuts = _cuts(data, blocks, below) if _as_split(data) else ()
    return SourceRecord(name=name, size=len(data), lead=lead, cuts=cuts)


def _as_split(data: bytes) -> bool:
    """Whether a source's bytes are those ``split_source`` holds (no byte
    order mark, "\n" line ends), so that its blocks' places are in them."""
    return not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data


_NOTHING = Cut(
    at=0, low=NO_ITEMS[0], high=NO_ITEMS[1], sha256=hashlib.sha256().hexdigest()
)


def _cuts(
    data: bytes, blocks: Sequence[Block], below: Sequence[Cut]
) -> tuple[Cut, ...]:
    """The cuts of a source (``state.Cut``), top first: a cut above each of
    ``blocks`` that has only later years above it than at and below it,
    then those of ``below`` (see ``source_record``; none: the source's end).
    The first of ``below`` goes when the blocks above it are not all later
    than everything under it; its part joins the one above."""
    below = list(below) or [_NOTHING]
    size = len(data)
    years = [block.day.year for block in blocks]
    newest = [0] * len(years) + [max(cut.high for cut in below)]
    for index in range(len(years) - 1, -1, -1):  # the newest year from each down
        newest[index] = max(years[index], newest[index + 1])
    starts: list[int] = []
    oldest = NO_ITEMS[0]  # the oldest year above each block
    for index, year in enumerate(years):
        if not starts or oldest > newest[index]:
            starts.append(index)
        oldest = min(oldest, year)
    # The first cut below goes when it parts no years any more (the last
    # cut, the source's end, never goes).
    joined = below.pop(0) if starts and oldest <= below[0].high else None
    cuts: list[Cut] = []
    for start, end in itertools.pairwise([*starts, len(years)]):
        part = years[start:end]
        low, high = min(part), max(part)
        if end == len(years):
            stop = below[0].at
            if joined is not None:
                low, high = min(low, joined.low), max(high, joined.high)
        else:
            stop = size - blocks[end].head
        at = size - blocks[start].head
        digest = hashlib.sha256(memoryview(data)[size - at : size - stop])
        cuts.append(Cut(at=at, low=low, high=high, sha256=digest.hexdigest()))
    return (*cuts, *below)


class Places:
    """Where blocks are in the sources (``state.place``), by the document
    they point into: the number of its source, its size and its lines."""

    def __init__(self) -> None:
        self._documents: dict[int, tuple[int, int, int]] = {}

    def add(self, number: int, document: str | bytes) -> None:
        """Know ``document`` (as blocks hold it) as that of source ``number``."""
        if isinstance(document, str):
            lines = document.count("\n")
        else:
            lines = document.count(b"\n")
        self._documents[id(document)] = (number, len(document), lines)

    def __call__(self, block: Block) -> int:
        number, size, lines = self._documents[id(block.document)]
        head, end = size - block.head, size - block.end
        return place(number, head, end, lines - block.line + 1)

    def block(self, at: int, documents: Sequence[tuple[str, bytes]]) -> Block:
        """The block at place ``at`` in ``documents`` (those added, in build
        order), read again from its source: what ``__call__`` gave ``at``.

        Raises:
            ValueError: no block can be there.
        """
        number, head, end, lines = unplace(at)
        if number >= len(documents):
            raise ValueError(f"no source {number}")
        name, data = documents[number]
        _, size, count = self._documents[id(data)]
        if not 0 <= end < head <= size:
            raise ValueError(f"{name}: no block {head} to {end} bytes from the end")
        return block_at(data, name, size - head, size - end, count - lines + 1)

    def recorded(
        self, entry: Entry, documents: Sequence[tuple[str, bytes]]
    ) -> Block | None:
        """The block at a record's place, if there is one of the record's day."""
        try:
            block = self.block(entry.at, documents)
        except ValueError:
            return None
        return block if block.day == entry.day else None


def _stubs(
    blocks: Sequence[Block],
    digests: Sequence[str],
    records: Mapping[dt.date, Sequence[Entry]],
    base_url: str,
    places: Callable[[Block], int],
) -> dict[int, Item]:
    """Stubs for the blocks of every day that is as the state recorded it
    (``records``: the state's records by day).

    A day qualifies when each of its blocks has the digest of a distinct
    record of that day and no two records of the day share a fingerprint:
    then ``identity.reconcile`` would match each block to that very record,
    unchanged. Any other day is read, normalised and matched in full.
    """
    if not digests:
        return {}
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for index, block in enumerate(blocks):
        by_day[block.day].append(index)
    stubs: dict[int, Item] = {}
    for day, indexes in by_day.items():
        day_records = records.get(day, [])
        if len({e.fingerprint for e in day_records}) < len(day_records):
            continue
        by_block = {e.block: e for e in day_records if e.block}
        chosen = [by_block[d] for i in indexes if (d := digests[i]) in by_block]
        if len({id(e) for e in chosen}) < len(indexes):
            continue  # a block is new or edited, or two blocks are the same
        for index, entry in zip(indexes, chosen, strict=True):
            stubs[index] = _stub(blocks[index], entry, base_url, places)
    return stubs


def _stub(
    block: Block, entry: Entry, base_url: str, places: Callable[[Block], int]
) -> Item:
    anchor = item_anchor(block.day, item_number(entry.id))
    return Item(
        id=entry.id,
        paragraphs=(),
        day=block.day,
        published=entry.published,
        updated=entry.updated if entry.updated > entry.published else None,
        link=entry.link or anchor_link(base_url, block.day, anchor),
        topics=entry.topics,
        source=block.source,
        line=block.line,
        fingerprint=entry.fingerprint,
        block=entry.block,  # the block's digest (see _stubs), already held
        at=places(block),
        pending=block,
    )


def _retired(
    topics: Sequence[tuple[str, str]],
    was_retired: Sequence[Retired],
    config: Config,
    now: dt.datetime,
) -> tuple[Retired, ...]:
    """Topics published before and gone from the config now; re-added ones return."""
    current = {t.slug for t in config.topics}
    retired = {r.slug: r for r in was_retired if r.slug not in current}
    for slug, name in topics:
        if slug not in current and slug not in retired:
            retired[slug] = Retired(slug=slug, name=name, since=now)
    return tuple(retired[slug] for slug in sorted(retired))


def twins(entries: Iterable[Entry]) -> int:
    """How many days have records with equal fingerprints (``Summary.twins``),
    of ``entries`` in their order in the state (by day)."""
    found = 0
    for _, day in itertools.groupby(entries, key=lambda e: e.day):
        prints = [e.fingerprint for e in day]
        found += len(set(prints)) < len(prints)
    return found


def compile_site(
    documents: Sequence[tuple[str, bytes]],
    config: Config,
    *,
    state: State | None = None,
    records: Callable[[], Sequence[Entry]] | None = None,
    now: dt.datetime = _EPOCH,
    inputs: str = "",
    salt: str = "",
    reuse: Mapping[str, OutputRecord] | None = None,
    progress: Callable[[int, int], None] | None = None,
    emit: _Emit | None = None,
    release: bool = False,
    aside: Callable[[], Aside] | None = None,
    spread: Spread | None = None,
    checks: Checks | None = None,
) -> BuildResult:
    """Turn documents into every output file, as bytes by relative path.

    Pure, but for ``release``, which empties the list of documents it is given.

    Args:
        documents: ``(name, bytes)`` in build order.
        config: the validated configuration.
        state: the state of the last build, if any (see ``state.py``).
        records: gives the item records of ``state`` when it was read
            without them (``state.load_state``), called once: before the
            sources are read if ``state`` was written under ``salt`` (its
            records give stubs of unchanged days), else once they are read,
            so that a large build never holds both. Records given so are
            let go once they are in the next state, which ``aside`` may
            put out of memory (the records of unchanged days are the same
            objects); those of ``state`` stay with its holder.
        now: the time of this build; used only for items edited since the last
            build and for topics removed since (never written otherwise).
        inputs: a digest of everything the build read, kept in the new state.
        salt: mixed into every output's key: digests of the code and config.
            Also the salt of the block digests that let unchanged days be
            taken from ``state`` (``block_digest``); "" reads every item.
        reuse: records of published files that are in place; a file whose
            record has the key this build computes is not rendered again and
            is missing from ``outputs`` (listed in ``kept``).
        progress: called with (outputs done, outputs in all) while rendering.
        emit: called with (path, bytes, previous record or None) for each
            rendered file once it passed validation, then with the state
            file, its bytes in pieces (``state.state_chunks``), so a large
            state is never held whole; ``outputs`` then stays empty. For a
            rendered file, it may give back a callable that gives the sha256
            (hex) of its bytes, which the state records: the shell works it
            out as it writes them, in another process
            (``publish.Publication``); any other answer: worked out here.
            Default: collect into ``outputs``.
        release: empty ``documents`` once they are cut into items (only a
            list is emptied; other sequences are left as they are),
            so that the bytes of a document go as soon as its items are read,
            instead of staying for the whole build (the shell's build does;
            a document stays while a stub of an unchanged day needs it).
        aside: gives a place (``state.Aside``) where the item records of the
            next state wait, serialised, while the outputs are rendered,
            instead of the records themselves (the shell's build gives a
            temporary file: a large build's memory peaks while it renders).
            The result's ``state.entries`` is then empty. Default: they wait
            as they are.
        spread: reads the sources' blocks, in runs (``Spread``); the shell's
            build gives one that reads on two cores (``spread.Spread``).
            Default: one run after the other.
        checks: where archive documents are checked by their parts
            (``Checks``); the shell's build gives checks that run in its
            writer process and raise later, before anything is published.
            Default: here, as each document is rendered.

    Raises:
        ConfigError: the config has no ``base_url`` to make absolute URLs with,
            or asks for archive documents of a recent history only.
        SourceError: a document is invalid or there are no items at all.
        ValidationError: a rendered file fails the checks (nothing is returned,
            and no later file is emitted).
    """
    if not config.base_url:
        if config.path is None:
            raise ConfigError(
                "feedpub.toml: config file not found (give --config FILE);"
                " a build needs feed.base_url"
            )
        raise ConfigError(f"{config.path}: feed.base_url is required to build feeds")
    if config.history == "recent" and config.archives:
        # Archive documents of the newest years alone would not be complete.
        raise ConfigError('feed.history = "recent" publishes no archive documents')
    reuse = reuse or {}
    # Named before _compile, which may empty ``documents`` (``release``).
    names = ", ".join(name for name, _ in documents) or "no documents"
    items, warnings, next_state = _compile(
        documents,
        config,
        state,
        now,
        salt,
        release,
        recent=config.history == "recent",
        records=records,
        spread=spread,
    )
    if not items:
        raise SourceError(
            [
                Diagnostic(
                    source=names,
                    line=0,
                    message="expected dated items, found none",
                    severity="error",
                )
            ]
        )
    held = None
    if aside is not None:
        held = HeldRecords(next_state.entries, aside())
        next_state = dataclasses.replace(next_state, entries=())
    plan = plan_feeds(items, config, next_state.retired)
    first = min(i.published for i in items)
    published, kept, outputs = _render(
        plan, config, first, salt, reuse, progress, emit, checks or HERE
    )
    next_state = dataclasses.replace(next_state, inputs=inputs, outputs=published)
    (emit or _collect(outputs))(STATE, state_chunks(next_state, held), None)
    return BuildResult(
        items=tuple(items),
        warnings=tuple(warnings),
        outputs=outputs,
        state=next_state,
        kept=kept,
        count=len(items),
    )


# (path, bytes or pieces, previous record) -> what gives the sha256 of the
# bytes, or anything else (see compile_site).
_Emit = Callable[[str, bytes | Iterator[bytes], OutputRecord | None], object]


def compile_appended(
    documents: Sequence[tuple[str, bytes]],
    config: Config,
    tail: Tail,
    *,
    now: dt.datetime,
    inputs: str,
    salt: str,
    reuse: Mapping[str, OutputRecord],
    progress: Callable[[int, int], None] | None = None,
    emit: _Emit | None = None,
) -> BuildResult | None:
    """``compile_site`` for sources that only gained items at their top,
    reading the new items and the state's records of the newest years alone.

    It applies when the last build (``tail``) had the same code and config
    (``salt``) and published files that are all in place (``reuse``); each
    source is the last one's, from its first item header on, with new text
    above it (so the old text gives the warnings it gave, which the summary
    counts and this build does not show again; see ``_fits``); the new text
    gives no warning, and its items
    are of the newest recorded day or later days, of years that have items,
    and take no record of that day (``_new_items``). Then outputs are the
    same bytes as ``compile_site`` would publish: the archive documents and
    yearly pages of older items are as they were, and so are their records.

    Returns:
        The build's result (see ``BuildResult.appended``); ``None`` when it
        does not apply, before emitting anything.

    Raises:
        ValidationError: as ``compile_site``.
    """
    summary = tail.summary
    if not _fits(tail, config, documents, salt, reuse):
        return None
    heads = _new_blocks(documents, summary.sources, config)
    new = [b for _, blocks in heads or () for b in blocks]
    if heads is None or not new:
        return None
    recorded = {y.year: y for y in summary.years}
    last_day = tail.last.day if tail.last is not None else None
    if (last_day is not None and min(b.day for b in new) < last_day) or any(
        b.day.year not in recorded for b in new
    ):
        return None
    places = Places()
    for number, (_, data) in enumerate(documents):
        places.add(number, data)  # the new blocks point into it (_new_blocks)
    # Items added on the newest recorded day: the whole way reads that day's
    # items again and matches them all to its records (identity.reconcile).
    same_day: list[Entry] = []
    if last_day is not None and any(b.day == last_day for b in new):
        same_day = tail.entries_of(last_day)
    made = _new_items(heads, same_day, documents, places, config, salt, now)
    if made is None:
        return None
    added, entries = made
    sources = [
        source_record(config.source_name(name), data, blocks, old.cuts)
        if blocks
        else dataclasses.replace(old, size=len(data), lead=cut)
        for (name, data), old, (cut, blocks) in zip(
            documents, summary.sources, heads, strict=True
        )
    ]
    return _compile_window(
        _Newest(tail, tail, added, entries, [*same_day, *entries], sources),
        config,
        documents,
        places,
        now=now,
        inputs=inputs,
        salt=salt,
        reuse=reuse,
        progress=progress,
        emit=emit,
    )


@dataclass(frozen=True, slots=True)
class _Newest:
    """What ``compile_appended`` or ``compile_edited`` read: the last
    build's state (``last``), the part of it that stays (``kept``: its
    records as bytes, and a summary of what they hold), the items read
    (``added``) and their records, the records to count twins among
    (``days``: those of the days read), and the sources as read now."""

    last: Tail
    kept: Tail
    added: list[Item]
    entries: list[Entry]
    days: list[Entry]
    sources: list[SourceRecord]
    read_from: int = 0  # compile_edited's year Y; 0: compile_appended
    warnings: tuple[Diagnostic, ...] = ()  # of the text read


def _fits(
    tail: Tail,
    config: Config,
    documents: Sequence[tuple[str, bytes]],
    salt: str,
    reuse: Mapping[str, OutputRecord],
) -> bool:
    """Whether the last build can be built on without reading it all: the
    same code and config, no twins, the same sources and topics, every file
    it published in place. Not with ``feed.history = "recent"``, whose whole
    way reads only the newest years already.

    Warnings of the last build may stand: text that is as it was gives the
    same ones (counted in the summary), and they are not shown again, as by
    a build that finds nothing changed (``feedpub check`` lists them)."""
    summary = tail.summary
    return (
        bool(salt)
        and config.history == "complete"
        and summary.salt == salt
        and not summary.twins
        and len(reuse) == len(tail.outputs)
        and len(documents) == len(summary.sources)
        and [key for key, _ in summary.feeds] == ["", *(t.slug for t in config.topics)]
    )


def _compile_window(
    newest: _Newest,
    config: Config,
    documents: Sequence[tuple[str, bytes]],
    places: Places,
    *,
    now: dt.datetime,
    inputs: str,
    salt: str,
    reuse: Mapping[str, OutputRecord],
    progress: Callable[[int, int], None] | None,
    emit: _Emit | None,
) -> BuildResult | None:
    """Plan, render and emit the items read by ``compile_appended`` or
    ``compile_edited`` with the window of older items they need, and the
    state; ``None`` when that does not apply, before emitting anything."""
    kept, added = newest.kept, newest.added
    if min(i.published for i in added) <= max(y.last for y in kept.summary.years):
        return None  # items read must be published after all others
    years = tuple(y.year for y in newest.last.summary.years)
    found = _window(kept, config, added, documents, places, years)
    if found is None:
        return None
    shown, window = found
    items = [*shown, *added]
    retired = _retired(kept.topics, kept.retired, config, now)
    plan = plan_feeds(items, config, retired, window)
    carried = dict(reuse)
    records, rendered, outputs = _render(
        plan, config, window.oldest, salt, reuse, progress, emit
    )
    for record in records:
        carried.pop(record.path, None)
    summary = _add_to_summary(kept.summary, added, newest.days, newest.sources)
    for path in _fewer_pages(newest.last.summary.feeds, summary.feeds, config):
        carried.pop(path, None)  # not published any more, as by compile_site
    state = State(
        inputs=inputs,
        outputs=tuple(sorted([*records, *carried.values()], key=lambda r: r.path)),
        topics=tuple((t.slug, t.name) for t in config.topics),
        retired=retired,
        entries=tuple(sorted_entries(newest.entries)),
        summary=summary,
    )
    (emit or _collect(outputs))(STATE, appended_chunks(kept, state), None)
    return BuildResult(
        items=tuple(items),
        warnings=newest.warnings,
        outputs=outputs,
        state=state,
        kept=tuple(sorted([*rendered, *carried])),
        count=dict(kept.summary.feeds)[""] + len(added),
        appended=not newest.read_from,
        read_from=newest.read_from,
    )


def compile_edited(
    documents: Sequence[tuple[str, bytes]],
    config: Config,
    tail: Tail,
    *,
    now: dt.datetime,
    inputs: str,
    salt: str,
    reuse: Mapping[str, OutputRecord],
    progress: Callable[[int, int], None] | None = None,
    emit: _Emit | None = None,
) -> BuildResult | None:
    """``compile_site`` for sources that changed in their newest years
    alone: an item edited, inserted, moved or removed there, or added above
    a day older than the newest. It reads those years again, from every
    source, and the state's records of them, and no older item.

    It applies as ``compile_appended`` does (the same code and config,
    every file in place), where each source has the bytes of the
    last build below one of its cuts (``state.Cut``), and the text above it
    splits without an error into items of the years it holds (its warnings
    are counted by year, ``Summary.warned``): year Y and later (the
    same years as before, none added and none gone), and everything below
    it is older. Y is the oldest year above the part of each source whose
    bytes stayed: of the text there now, and of the items there at the
    last build, which may be gone. Their items must be
    published after all older ones. Outputs are then the same bytes as
    ``compile_site`` would publish, the state file included.

    Returns:
        The build's result (``BuildResult.read_from`` is Y); ``None`` when
        it does not apply, before emitting anything.

    Raises:
        ValidationError: as ``compile_site``.
    """
    summary = tail.summary
    # The warnings of the years read again are counted again; those of the
    # years before stay as counted (``Summary.warned``).
    warned_before = summary.warned
    if warned_before is None or sum(n for _, n in warned_before) != summary.warnings:
        return None
    if not _fits(tail, config, documents, salt, reuse):
        return None
    found = _reread(documents, summary.sources, config)
    if found is None:
        return None
    year, regions, warnings = found
    recorded = [y for y in summary.years if y.year >= year]
    older = [y for y in summary.years if y.year < year]
    if not older or {b.day.year for _, blocks in regions for b in blocks} != {
        y.year for y in recorded
    }:
        return None  # a year added or gone; or nothing older to keep
    records = tail.entries(year)
    counts = dict(summary.feeds)  # of the items older than ``year``
    for entry in records:
        if entry.at:
            counts[""] -= 1
            for slug in entry.topics:
                if slug in counts:
                    counts[slug] -= 1
    if dict(summary.feeds)[""] - counts[""] != sum(y.count for y in recorded):
        return None
    places = Places()
    for number, (_, data) in enumerate(documents):
        places.add(number, data)  # the blocks read again point into it
    blocks = [block for _, found_blocks in regions for block in found_blocks]
    ranks = day_positions([block.day for block in blocks])
    reading = [
        (block, rank, block_digest(block, salt), places(block))
        for block, rank in reversed(list(zip(blocks, ranks, strict=True)))
    ]
    warned = warned_years(warnings, blocks)
    del blocks
    errors: list[Diagnostic] = []
    tagged = _read(reading, config, warnings, errors, warned=warned)
    if errors:
        return None  # compile_site reports them
    order = {name: index for index, (name, _) in enumerate(documents)}
    warnings.sort(key=lambda d: (order.get(d.source, -1), d.line))
    warned.update({y: n for y, n in warned_before if y < year})
    base_url = config.base_url
    read, entries = reconcile(
        tagged, records, now, lambda item, anchor: item_link(item, base_url, anchor)
    )
    before = dataclasses.replace(
        tail.before(year),
        summary=dataclasses.replace(
            summary,
            warnings=warned.total(),
            warned=tuple(sorted((y, n) for y, n in warned.items() if n)),
            feeds=tuple(counts.items()),
            years=tuple(older),
        ),
    )
    sources = [
        source_record(config.source_name(name), data, found_blocks, cuts)
        for (name, data), (cuts, found_blocks) in zip(documents, regions, strict=True)
    ]
    return _compile_window(
        _Newest(
            tail,
            before,
            read,
            entries,
            entries,
            sources,
            read_from=year,
            warnings=tuple(warnings),
        ),
        config,
        documents,
        places,
        now=now,
        inputs=inputs,
        salt=salt,
        reuse=reuse,
        progress=progress,
        emit=emit,
    )


def _fewer_pages(
    before: Sequence[tuple[str, int]], after: Sequence[tuple[str, int]], config: Config
) -> Iterator[str]:
    """The archive documents of feeds that had ``before`` items and have
    ``after`` (``Summary.feeds``) that are gone: with fewer items, fewer
    pages are full (``plan.plan_archives``)."""
    if not config.archives:
        return
    size = config.archive_size
    now = dict(after)
    for key, count in before:
        prefix = TOPIC_DIR.format(slug=key) if key else ""
        for number in range(now[key] // size + 1, count // size + 1):
            for kind in KINDS:
                yield archive_path(prefix, kind, number)


def _reread(
    documents: Sequence[tuple[str, bytes]],
    sources: Sequence[SourceRecord],
    config: Config,
) -> tuple[int, list[tuple[tuple[Cut, ...], list[Block]]], list[Diagnostic]] | None:
    """Y, the first year to read again (see ``compile_edited``), for each
    source its cuts from the one it is read again above, and the blocks
    above that cut, and the warnings of cutting them; ``None`` when that
    cannot be found, or no item is above the unchanged part of any source,
    now or at the last build."""
    # the lowest cut's index, its blocks and warnings
    above: list[tuple[int, tuple[list[Block], list[Diagnostic]]]] = []
    for (name, data), old in zip(documents, sources, strict=True):
        if config.source_name(name) != old.name or not old.cuts:
            return None
        if not _as_split(data):
            return None
        index = _same_below(data, old.cuts)
        found = _blocks_above(data, name, old.cuts[index].at)
        if found is None:
            return None
        above.append((index, found))
    # Y: the oldest year above the part of each source that stayed, in the
    # text now and in the parts it replaced (their items may be gone).
    year = min(
        [
            *(b.day.year for _, (blocks, _) in above for b in blocks),
            *(
                cut.low
                for old, (index, _) in zip(sources, above, strict=True)
                for cut in old.cuts[:index]
            ),
        ],
        default=NO_ITEMS[0],
    )
    if year == NO_ITEMS[0]:
        return None
    regions: list[tuple[tuple[Cut, ...], list[Block]]] = []
    warnings: list[Diagnostic] = []
    for (name, data), old, (index, found) in zip(
        documents, sources, above, strict=True
    ):
        # the highest cut, at or below the one found, with older years alone below
        lowest = len(old.cuts) - 1
        newest = old.cuts[lowest].high
        while lowest > index and max(newest, old.cuts[lowest - 1].high) < year:
            lowest -= 1
            newest = max(newest, old.cuts[lowest].high)
        if lowest != index:
            found = _blocks_above(data, name, old.cuts[lowest].at)
            if found is None:
                return None
        blocks, warned = found
        if any(b.day.year < year for b in blocks):
            return None
        if warned and not blocks:
            # Text above a first header further down, of an older year (cut
            # alone, such text is an error today: kept for safety).
            return None
        regions.append((old.cuts[lowest:], blocks))
        warnings += warned
    return year, regions, warnings


def _same_below(data: bytes, cuts: Sequence[Cut]) -> int:
    """The index of the highest of ``cuts`` (a source's, top first) with the
    same bytes below it in ``data`` as when they were made."""
    size = len(data)
    found = len(cuts) - 1  # the source's end: nothing below it
    for index in range(len(cuts) - 1, -1, -1):
        cut = cuts[index]
        stop = cuts[index + 1].at if index + 1 < len(cuts) else 0
        if cut.at > size:
            break
        part = memoryview(data)[size - cut.at : size - stop]
        if hashlib.sha256(part).hexdigest() != cut.sha256:
            break
        found = index
    return found


def _blocks_above(
    data: bytes, name: str, at: int
) -> tuple[list[Block], list[Diagnostic]] | None:
    """The blocks of ``data`` above the cut ``at`` bytes from its end, as
    ``split_source`` cuts the whole of it, and the warnings it gives there;
    ``None`` when the text above gives an error, or would make the header at
    the cut part of a paragraph."""
    cut = len(data) - at
    try:
        blocks, warnings, errors = split_source(data[:cut], name)
    except SourceError:
        return None  # compile_site reports it, with the other problems
    if errors:
        return None
    if at and cut and not ends_with_blank_line(data[:cut]):
        return None
    return [dataclasses.replace(b, document=data) for b in blocks], warnings


def _new_items(
    heads: Sequence[tuple[int, list[Block]]],
    same_day: Sequence[Entry],
    documents: Sequence[tuple[str, bytes]],
    places: Places,
    config: Config,
    salt: str,
    now: dt.datetime,
) -> tuple[list[Item], list[Entry]] | None:
    """The items of the blocks above the old text (``heads``, see
    ``_new_blocks``) and their records, as the whole way makes them, for
    ``compile_appended``; ``None`` when they might not be the same.

    ``same_day``: the records of the newest recorded day, when blocks are
    added to it. Its items are read again (the whole way reads a day with a
    new item in full): each ranks on the day (its time and first id), and
    matching them to their records tells the new ones which ids and times
    are taken. Their records must come back unchanged, and the new records
    go after them, so the old records stay the bytes they are.
    """
    # The blocks in the order of the whole way: by source, then from the top.
    listed = [
        (number, block.head, block, False)
        for number, (_, blocks) in enumerate(heads)
        for block in blocks
    ]
    for entry in same_day:
        if not entry.at:
            continue  # the record of an item removed since
        block = places.recorded(entry, documents)
        if block is None:
            return None
        listed.append((unplace(entry.at)[0], block.head, block, True))
    listed.sort(key=lambda found: found[:2])
    ranks = day_positions([block.day for _, _, block, _ in listed])
    reading = [
        (block, rank, block_digest(block, salt), places(block))
        for (_, _, block, _), rank in reversed(list(zip(listed, ranks, strict=True)))
    ]
    warnings: list[Diagnostic] = []
    errors: list[Diagnostic] = []
    tagged = _read(reading, config, warnings, errors)
    if warnings or errors:
        return None  # compile_site reports them
    base_url = config.base_url
    items, entries = reconcile(
        tagged,
        list(same_day),
        now,
        lambda item, anchor: item_link(item, base_url, anchor),
    )
    added = [item for item, (*_, old) in zip(items, listed, strict=True) if not old]
    kept = {id(e) for e in same_day}
    made = [e for e in entries if id(e) not in kept]
    # A record of the day that changed has its old id, so it does not sort
    # after the last record (same_day's last), which every new one must: the
    # old records stay bytes. A new id in a gap below the last one declines
    # too, needlessly but safely.
    if same_day and min(map(entry_order, made)) <= entry_order(same_day[-1]):
        return None
    return added, made


def _window(
    tail: Tail,
    config: Config,
    added: Sequence[Item],
    documents: Sequence[tuple[str, bytes]],
    places: Places,
    years: tuple[int, ...],
) -> tuple[list[Item], Window] | None:
    """The recorded items that ``plan_feeds`` needs beside ``added``, as
    stubs, and what the others add (``plan.Window``); ``None`` when they
    would be all of them, or the records do not fit the sources.
    ``years``: those of all items (``tail`` may hold the older ones alone,
    as for ``compile_edited``).

    The window holds whole years, from the newest back, until each feed has
    its newest ``limit`` items and one more (the first its page leaves out),
    and every archive document that the new items change: from the last
    full one, which gains a ``next-archive`` link when a new one fills up.
    Items of the years before are published before all of the window's.
    """
    summary = tail.summary
    counts = dict(summary.feeds)
    gained = dict.fromkeys(counts, 0)
    for item in added:
        gained[""] += 1
        for slug in item.topics:
            if slug in gained:
                gained[slug] += 1
    size = config.archive_size

    def enough(key: str, have: int) -> bool:
        need = config.limit + 1
        if config.archives:
            need = max(need, gained[key] + counts[key] % size + size)
        return have == counts[key] or have + gained[key] >= need

    entries: list[Entry] = []  # of the items in the window, oldest day first
    have = dict.fromkeys(counts, 0)
    for index in range(len(summary.years) - 1, 0, -1):
        inside = summary.years[index:]
        until = inside[1].year if len(inside) > 1 else None
        more = [e for e in tail.entries(inside[0].year, until) if e.at]
        entries[:0] = more
        have[""] += len(more)
        for entry in more:
            for slug in entry.topics:
                if slug in have:
                    have[slug] += 1
        if len(entries) != sum(y.count for y in inside):
            return None
        if max(y.last for y in summary.years[:index]) >= min(y.first for y in inside):
            continue  # items before it were published after some in it
        if all(enough(key, have[key]) for key in counts):
            break
    else:
        return None  # all items: compile_site
    shown: list[Item] = []
    for entry in entries:
        block = places.recorded(entry, documents)
        if block is None:
            return None
        shown.append(_stub(block, entry, config.base_url, places))
    window = Window(
        older={key: counts[key] - have[key] for key in counts},
        years=years,
        oldest=min(y.first for y in summary.years),
    )
    return shown, window


def _add_to_summary(
    summary: Summary,
    added: Sequence[Item],
    entries: Sequence[Entry],
    sources: Sequence[SourceRecord],
) -> Summary:
    """``summary`` with the items ``added`` (none before its newest day),
    ``sources``, and the twins among ``entries``: the records of the days
    the items were added to, old and new."""
    counts = dict(summary.feeds)
    by_year: dict[int, list[Item]] = defaultdict(list)
    for item in added:
        counts[""] += 1
        for slug in item.topics:
            if slug in counts:
                counts[slug] += 1
        by_year[item.day.year].append(item)
    years = []
    for year in summary.years:
        new = by_year.get(year.year)
        if new:
            year = YearRecord(
                year=year.year,
                count=year.count + len(new),
                first=min(year.first, *(i.published for i in new)),
                last=max(year.last, *(i.published for i in new)),
            )
        years.append(year)
    known = {year.year for year in summary.years}
    years += [
        YearRecord(
            year=year,
            count=len(new),
            first=min(i.published for i in new),
            last=max(i.published for i in new),
        )
        for year, new in sorted(by_year.items())
        if year not in known
    ]
    return dataclasses.replace(
        summary,
        twins=summary.twins + twins(sorted_entries(entries)),
        sources=tuple(sources),
        feeds=tuple(counts.items()),
        years=tuple(years),
    )


def _new_blocks(
    documents: Sequence[tuple[str, bytes]],
    sources: Sequence[SourceRecord],
    config: Config,
) -> list[tuple[int, list[Block]]] | None:
    """For each source, where its old first item header now is and the
    blocks of the text above it; ``None`` when a source is not its old self
    (``sources``) from its first header on (all its cuts' bytes the same),
    below text that splits cleanly."""
    found: list[tuple[int, list[Block]]] = []
    for (name, data), old in zip(documents, sources, strict=True):
        if config.source_name(name) != old.name or not old.cuts:
            return None
        if not _as_split(data) or _same_below(data, old.cuts) != 0:
            return None
        first = len(data) - old.cuts[0].at  # the old first item header
        if data[max(first - old.lead, 0) : first].strip():
            return None  # text before it, now part of a new item, warns no more
        above = _blocks_above(data, name, old.cuts[0].at)
        if above is None or above[1]:
            return None  # the whole way reports the warnings of new text
        found.append((len(data) - old.cuts[0].at, above[0]))
    return found


def _collect(outputs: dict[str, bytes]) -> _Emit:
    def collect(path: str, data: bytes | Iterator[bytes], _: object) -> None:
        outputs[path] = data if isinstance(data, bytes) else b"".join(data)

    return collect


def _render(
    plan: Plan,
    config: Config,
    first: dt.datetime,
    salt: str,
    reuse: Mapping[str, OutputRecord],
    progress: Callable[[int, int], None] | None,
    emit: _Emit | None,
    checks: Checks = HERE,
) -> tuple[tuple[OutputRecord, ...], tuple[str, ...], dict[str, bytes]]:
    """Render, check and emit each output of ``plan`` whose key is not that
    of its record in ``reuse`` (see ``compile_site``).

    Returns:
        The records of the plan's outputs by path, the paths not rendered
        again, and the outputs collected when there is no ``emit``.
    """
    outputs: dict[str, bytes] = {}
    emit = emit or _collect(outputs)
    records: list[OutputRecord] = []
    # (path, size, sha256 or what gives it, key) of each output emitted
    written: list[tuple[str, int, str | Callable[[], str], str]] = []
    kept: list[str] = []
    # Each job holds what its output needs and is let go once done, so the
    # plan of a large build's archive documents, and their fragments, go with
    # the archive jobs, before the yearly pages are rendered.
    jobs = _jobs(plan, config, first, ItemLoader(config), checks)
    del plan
    total = len(jobs)
    jobs.reverse()
    item_keys: dict[int, bytes] = {}  # keys.item_key, shared by all outputs
    while jobs:
        job = jobs.pop()
        if progress is not None:
            progress(total - len(jobs), total)
        key = spec_key(job.spec, salt, item_keys)
        previous = reuse.get(job.path)
        if previous is not None and previous.key == key:
            records.append(previous)
            kept.append(job.path)
            continue
        data = job.render()
        if job.check is None:
            validate_outputs({job.path: data})
        else:
            job.check(data)
        given = emit(job.path, data, previous)
        # What gives the sha256 of the bytes, if the emitter does; any other
        # answer (None, or what a library caller's emit returns) is ignored.
        digest = given if callable(given) else hashlib.sha256(data).hexdigest()
        written.append((job.path, len(data), digest, key))
        del data  # a large build holds one rendered file at a time
    records += [
        OutputRecord(
            path=path,
            size=size,
            sha256=digest if isinstance(digest, str) else digest(),
            key=key,
        )
        for path, size, digest, key in written
    ]
    records.sort(key=lambda r: r.path)
    return tuple(records), tuple(sorted(kept)), outputs


def _render_archive(spec: ArchiveSpec, fragments: FragmentCache) -> bytes:
    return render_archive(spec, fragments)


def _check_archive(
    page: ArchivePage,
    fragments: FragmentCache,
    validate: Callable[[str, Kind, bytes, Sequence[str]], None],
    data: bytes,
) -> None:
    """Check an archive document by its parts (see ``validate.py``): the
    fragments its rendering made, then its frame and its item ids. ``data``
    is its frame with checked fragments in between; it is not parsed again."""
    head, tail = fragments.frame(page.spec)  # as the rendering made it
    if not (data.startswith(head) and data.endswith(tail)):
        raise ValidationError(
            f"{page.path}: the document is not its frame with its items in between"
        )
    fragments.check_new(page.path)
    ids = [i.id for i in page.spec.items]
    validate(page.path, page.spec.kind, head + tail, ids)


@dataclass(frozen=True, slots=True)
class _Job:
    """One output to publish: its path, what it shows, and how to render it."""

    path: str
    spec: object  # everything the output shows; keys.spec_key names its bytes
    render: Callable[[], bytes]
    # Raises ValidationError for rendered bytes that must not be published;
    # None: validate_outputs() of the file.
    check: Callable[[bytes], None] | None = None


def _jobs(
    plan: Plan,
    config: Config,
    first: dt.datetime,
    loader: ItemLoader,
    checks: Checks = HERE,
) -> list[_Job]:
    """Every output of a plan, not yet rendered; stubs are loaded when rendered.
    ``first``: the publication time of the oldest item."""

    def later(render: Callable[[_Spec], bytes], spec: _Spec) -> Callable[[], bytes]:
        return lambda: render(loader.spec(spec))

    # An item is in the archives of the main feed and of its topics: render
    # its fragments once, going through all feeds' pages period by period so
    # that each item's fragments are dropped soon after (FragmentCache).
    archives = sorted(
        plan.archives,
        key=lambda a: (a.spec.items[0].published if a.spec.items else _EPOCH, a.path),
    )
    uses: dict[str, int] = {}
    for archive in archives:
        for item in archive.spec.items:
            uses[item.id] = uses.get(item.id, 0) + 1
    fragments = FragmentCache(uses, check=checks.fragments)
    # The pages (a year of a feed, or its newest items) and the subscription
    # documents go among them, each after the archive documents that begin
    # before its newest item: their stubs were loaded just before
    # (ItemLoader), not read again.
    timed: list[tuple[dt.datetime, int, _Job]] = []
    for prefix, feed in plan.feeds:
        newest = max((i.published for i in feed.items), default=_EPOCH)
        for job in (
            _Job(f"{prefix}{RSS}", ("rss", feed), later(render_rss, feed)),
            _Job(f"{prefix}{ATOM}", ("atom", feed), later(render_atom, feed)),
            _Job(f"{prefix}{JSON_FEED}", ("json", feed), later(render_json_feed, feed)),
        ):
            timed.append((newest, len(timed), job))
    for archive in archives:
        start = archive.spec.items[0].published if archive.spec.items else _EPOCH
        job = _Job(
            archive.path,
            ("archive", archive.spec),
            later(partial(_render_archive, fragments=fragments), archive.spec),
            partial(_check_archive, archive, fragments, checks.archive),
        )
        timed.append((start, len(timed), job))
    for page in plan.pages:
        newest = max((i.published for i in page.items), default=_EPOCH)
        job = _Job(page.path, ("page", page), later(render_page, page))
        timed.append((newest, len(timed), job))
    timed.sort(key=lambda found: found[:2])
    jobs = [job for *_, job in timed]
    for page in plan.embeds:
        jobs.append(_Job(page.path, ("embed", page), later(render_embed_page, page)))
    jobs.append(_Job(EMBED_SCRIPT, "embed.js", embed_script))
    # The OPML lists the current topics' feeds (not the retired ones), dated
    # by the oldest item: it changes with the config, not with every new item
    # (with feed.history = "recent", when the oldest year read changes).
    current = {""} | {t.slug for t in config.topics}
    feeds = tuple(listing(feed) for _, feed in plan.feeds if feed.key in current)
    jobs.append(
        _Job(
            OPML,
            ("opml", config.title, feeds, first),
            partial(render_opml, config.title, feeds, first),
        )
    )
    if config.stylesheet:
        jobs.append(
            _Job(
                STYLESHEET,
                ("xsl", config.language),
                partial(render_stylesheet, config.language),
            )
        )
    return jobs
