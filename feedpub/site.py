"""Wire the pure stages: documents -> items -> plan -> rendered files.

Nothing here touches the disk or the clock; ``build.py`` is the shell that
reads the sources and the state, and publishes what this module renders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from feedpub.config import Config
from feedpub.errors import ConfigError, SourceError, ValidationError
from feedpub.identity import reconcile
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
from feedpub.parse import read_block, split_source
from feedpub.plan import (
    ATOM,
    EMBED_SCRIPT,
    JSON_FEED,
    OPML,
    RSS,
    STATE,
    STYLESHEET,
    Plan,
    anchor_link,
    item_link,
    listing,
    plan_feeds,
)
from feedpub.render.archive import FragmentCache, archive_frame, render_archive
from feedpub.render.assets import embed_script
from feedpub.render.jsonfeed import render_json_feed
from feedpub.render.opml import render_opml
from feedpub.render.pages import render_embed_page, render_page, render_stylesheet
from feedpub.render.rss_atom import render_atom, render_rss
from feedpub.state import (
    Entry,
    OutputRecord,
    Retired,
    State,
    sorted_entries,
    state_chunks,
)
from feedpub.tagging import Tagger
from feedpub.validate import check_fragments, validate_archive, validate_outputs

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_Spec = TypeVar("_Spec")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """What a build made: the items, the warnings and the rendered files."""

    # Every item in source order; with a salt, those of unchanged days are
    # stubs without text (``Item.pending``; ``ItemLoader.item`` reads one).
    items: tuple[Item, ...]
    warnings: tuple[Diagnostic, ...]
    outputs: dict[str, bytes]  # rendered this time, by path
    state: State = field(default_factory=State)
    kept: tuple[str, ...] = ()  # paths not rendered again: same key, file in place


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
) -> tuple[list[Item], list[Diagnostic], State]:
    order = {name: index for index, (name, _) in enumerate(documents)}
    blocks, warnings, errors = _split(documents)
    if release and isinstance(documents, list):
        documents.clear()  # from here on, only blocks hold their document
    previous = state or State()
    digests = [block_digest(b, salt) for b in blocks] if salt else []
    stubs = _stubs(blocks, digests, previous.entries, config.base_url)
    full = [index for index in range(len(blocks)) if index not in stubs]
    days = {blocks[index].day for index in full}
    ranks = day_positions([blocks[index].day for index in full])
    reading = [
        (blocks[i], ranks[k], digests[i] if salt else "")
        for k, i in reversed(list(enumerate(full)))
    ]
    del blocks, ranks  # the stubs keep theirs; the others go once read
    tagged = _read(reading, config, warnings, errors)
    if errors:
        raise SourceError(
            sorted(errors, key=lambda d: (order.get(d.source, -1), d.line))
        )
    warnings.sort(key=lambda d: (order.get(d.source, -1), d.line))
    base_url = config.base_url
    identified, entries = reconcile(
        tagged,
        [e for e in previous.entries if e.day in days],
        now,
        lambda item, anchor: item_link(item, base_url, anchor),
        in_place=True,
    )
    del tagged  # now the same list as identified
    entries += [e for e in previous.entries if e.day not in days]
    items: list[Item] = [*stubs.values(), *identified]
    positions = [*stubs, *full]
    items = [items[i] for i in sorted(range(len(items)), key=positions.__getitem__)]
    next_state = State(
        inputs=previous.inputs,
        topics=tuple((t.slug, t.name) for t in config.topics),
        retired=_retired(previous, config, now),
        entries=tuple(sorted_entries(entries)),
    )
    return items, warnings, next_state


def _read(
    reading: list[tuple[Block, tuple[int, int], str]],
    config: Config,
    warnings: list[Diagnostic],
    errors: list[Diagnostic],
) -> list[Item]:
    """Read, normalise and tag the blocks of ``reading`` (block, (rank, count)
    on its day, digest), taking them from its end: each block goes once read,
    and its document with the last block that points into it."""
    tagger = Tagger(config.topics)
    tagged: list[Item] = []
    while reading:  # one item at a time: no stage holds every item's lines
        block, (rank, count), digest = reading.pop()
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
        item = normalise_item(raw, rank, count, config, warnings, errors, digest)
        item = tagger.tag(item, warnings)
        if len(warnings) > before and item.block:
            # A block that gave a warning gets no digest: every build reads
            # it again and warns again.
            item = evolve(item, block="")
        tagged.append(item)
    return tagged


def _split(
    documents: Sequence[tuple[str, bytes]],
) -> tuple[list[Block], list[Diagnostic], list[Diagnostic]]:
    """Every document's blocks, warnings and errors, in document order."""
    blocks: list[Block] = []
    warnings: list[Diagnostic] = []
    errors: list[Diagnostic] = []
    for name, data in documents:
        try:
            found_blocks, found, failed = split_source(data, name)
        except SourceError as e:
            errors.extend(e.diagnostics)
            continue
        blocks += found_blocks
        del found_blocks  # blocks are let go one by one once read
        warnings += found
        errors += failed
    return blocks, warnings, errors


def _stubs(
    blocks: Sequence[Block],
    digests: Sequence[str],
    entries: Sequence[Entry],
    base_url: str,
) -> dict[int, Item]:
    """Stubs for the blocks of every day that is as the state recorded it.

    A day qualifies when each of its blocks has the digest of a distinct
    record of that day and no two records of the day share a fingerprint:
    then ``identity.reconcile`` would match each block to that very record,
    unchanged. Any other day is read, normalised and matched in full.
    """
    if not digests:
        return {}
    records: dict[dt.date, list[Entry]] = defaultdict(list)
    for entry in entries:
        records[entry.day].append(entry)
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
            stubs[index] = _stub(blocks[index], entry, base_url)
    return stubs


def _stub(block: Block, entry: Entry, base_url: str) -> Item:
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
        pending=block,
    )


def _retired(previous: State, config: Config, now: dt.datetime) -> tuple[Retired, ...]:
    """Topics published before and gone from the config now; re-added ones return."""
    current = {t.slug for t in config.topics}
    retired = {r.slug: r for r in previous.retired if r.slug not in current}
    for slug, name in previous.topics:
        if slug not in current and slug not in retired:
            retired[slug] = Retired(slug=slug, name=name, since=now)
    return tuple(retired[slug] for slug in sorted(retired))


def compile_site(
    documents: Sequence[tuple[str, bytes]],
    config: Config,
    *,
    state: State | None = None,
    now: dt.datetime = _EPOCH,
    inputs: str = "",
    salt: str = "",
    reuse: Mapping[str, OutputRecord] | None = None,
    progress: Callable[[int, int], None] | None = None,
    emit: Callable[[str, bytes | Iterator[bytes], OutputRecord | None], None]
    | None = None,
    release: bool = False,
) -> BuildResult:
    """Turn documents into every output file, as bytes by relative path.

    Pure, but for ``release``, which empties the list of documents it is given.

    Args:
        documents: ``(name, bytes)`` in build order.
        config: the validated configuration.
        state: the state of the last build, if any (see ``state.py``).
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
            state is never held whole; ``outputs`` then stays empty.
            Default: collect into ``outputs``.
        release: empty ``documents`` once they are cut into items (only a
            list is emptied; other sequences are left as they are),
            so that the bytes of a document go as soon as its items are read,
            instead of staying for the whole build (the shell's build does;
            a document stays while a stub of an unchanged day needs it).

    Raises:
        ConfigError: the config has no ``base_url`` to make absolute URLs with.
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
    reuse = reuse or {}
    # Named before _compile, which may empty ``documents`` (``release``).
    names = ", ".join(name for name, _ in documents) or "no documents"
    items, warnings, next_state = _compile(documents, config, state, now, salt, release)
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
    plan = plan_feeds(items, config, next_state.retired)
    outputs: dict[str, bytes] = {}

    def collect(path: str, data: bytes | Iterator[bytes], _: object) -> None:
        outputs[path] = data if isinstance(data, bytes) else b"".join(data)

    emit = emit or collect
    records: list[OutputRecord] = []
    kept: list[str] = []
    # Each job holds what its output needs and is let go once done, so the
    # plan of a large build's archive documents, and their fragments, go with
    # the archive jobs, before the yearly pages are rendered.
    jobs = _jobs(plan, config, items, ItemLoader(config))
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
        records.append(
            OutputRecord(
                path=job.path,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                key=key,
            )
        )
        emit(job.path, data, previous)
        del data  # a large build holds one rendered file at a time
    next_state = State(
        inputs=inputs,
        outputs=tuple(sorted(records, key=lambda r: r.path)),
        topics=next_state.topics,
        retired=next_state.retired,
        entries=next_state.entries,
    )
    emit(STATE, state_chunks(next_state), None)
    return BuildResult(
        items=tuple(items),
        warnings=tuple(warnings),
        outputs=outputs,
        state=next_state,
        kept=tuple(sorted(kept)),
    )


def _render_archive(spec: ArchiveSpec, fragments: FragmentCache) -> bytes:
    return render_archive(spec, fragments)


def _check_archive(page: ArchivePage, fragments: FragmentCache, data: bytes) -> None:
    """Check an archive document by its parts (see ``validate.py``): the
    fragments its rendering made, then its frame and its item ids. ``data``
    is its frame with checked fragments in between; it is not parsed again."""
    head, tail = archive_frame(page.spec)
    if not (data.startswith(head) and data.endswith(tail)):
        raise ValidationError(
            f"{page.path}: the document is not its frame with its items in between"
        )
    fragments.check_new(page.path)
    ids = [i.id for i in page.spec.items]
    validate_archive(page.path, page.spec.kind, head + tail, ids)


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
    plan: Plan, config: Config, items: Sequence[Item], loader: ItemLoader
) -> list[_Job]:
    """Every output of a plan, not yet rendered; stubs are loaded when rendered."""

    def later(render: Callable[[_Spec], bytes], spec: _Spec) -> Callable[[], bytes]:
        return lambda: render(loader.spec(spec))

    jobs: list[_Job] = []
    for prefix, feed in plan.feeds:
        jobs.append(_Job(f"{prefix}{RSS}", ("rss", feed), later(render_rss, feed)))
        jobs.append(_Job(f"{prefix}{ATOM}", ("atom", feed), later(render_atom, feed)))
        jobs.append(
            _Job(
                f"{prefix}{JSON_FEED}",
                ("json", feed),
                later(render_json_feed, feed),
            )
        )
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
    fragments = FragmentCache(uses, check=check_fragments)
    for archive in archives:
        jobs.append(
            _Job(
                archive.path,
                ("archive", archive.spec),
                later(partial(_render_archive, fragments=fragments), archive.spec),
                partial(_check_archive, archive, fragments),
            )
        )
    for page in plan.pages:
        jobs.append(_Job(page.path, ("page", page), later(render_page, page)))
    for page in plan.embeds:
        jobs.append(_Job(page.path, ("embed", page), later(render_embed_page, page)))
    jobs.append(_Job(EMBED_SCRIPT, "embed.js", embed_script))
    # The OPML lists the current topics' feeds (not the retired ones), dated
    # by the oldest item: it changes with the config, not with every new item.
    current = {""} | {t.slug for t in config.topics}
    feeds = tuple(listing(feed) for _, feed in plan.feeds if feed.key in current)
    first = min(i.published for i in items)
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
