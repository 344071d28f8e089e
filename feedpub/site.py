"""Wire the pure stages: documents -> items -> plan -> rendered files.

Nothing here touches the disk or the clock; ``build.py`` is the shell that
reads the sources and the state, and publishes what this module renders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from feedpub.config import Config
from feedpub.errors import ConfigError, SourceError
from feedpub.identity import reconcile
from feedpub.keys import spec_key
from feedpub.model import Diagnostic, Item, RawItem
from feedpub.normalise import normalise_items
from feedpub.parse import decode_source, parse_document
from feedpub.plan import (
    ATOM,
    EMBED_SCRIPT,
    JSON_FEED,
    OPML,
    RSS,
    STATE,
    STYLESHEET,
    Plan,
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
from feedpub.state import OutputRecord, Retired, State, dump_state, sorted_entries
from feedpub.tagging import tag_items
from feedpub.validate import validate_outputs

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """What a build made: the items, the warnings and the rendered files."""

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
    items, warnings, _ = _compile(documents, config, state, now)
    return items, warnings


def _compile(
    documents: Sequence[tuple[str, bytes]],
    config: Config,
    state: State | None,
    now: dt.datetime,
) -> tuple[list[Item], list[Diagnostic], State]:
    raw_items: list[RawItem] = []
    warnings: list[Diagnostic] = []
    errors: list[Diagnostic] = []
    for name, data in documents:
        try:
            items, found = parse_document(decode_source(data, name), name)
        except SourceError as e:
            errors.extend(e.diagnostics)
            continue
        raw_items.extend(items)
        warnings.extend(found)
    if errors:
        raise SourceError(errors)
    normalised, found = normalise_items(raw_items, config)
    del raw_items  # each stage's input is let go as soon as it is used
    warnings.extend(found)
    tagged, found = tag_items(normalised, config.topics)
    del normalised
    warnings.extend(found)
    order = {name: index for index, (name, _) in enumerate(documents)}
    warnings.sort(key=lambda d: (order.get(d.source, -1), d.line))
    previous = state or State()
    base_url = config.base_url
    identified, entries = reconcile(
        tagged,
        previous.entries,
        now,
        lambda item, anchor: item_link(item, base_url, anchor),
    )
    del tagged
    next_state = State(
        inputs=previous.inputs,
        topics=tuple((t.slug, t.name) for t in config.topics),
        retired=_retired(previous, config, now),
        entries=tuple(sorted_entries(entries)),
    )
    return identified, warnings, next_state


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
    emit: Callable[[str, bytes, OutputRecord | None], None] | None = None,
) -> BuildResult:
    """Turn documents into every output file, as bytes by relative path. Pure.

    Args:
        documents: ``(name, bytes)`` in build order.
        config: the validated configuration.
        state: the state of the last build, if any (see ``state.py``).
        now: the time of this build; used only for items edited since the last
            build and for topics removed since (never written otherwise).
        inputs: a digest of everything the build read, kept in the new state.
        salt: mixed into every output's key: digests of the code and config.
        reuse: records of published files that are in place; a file whose
            record has the key this build computes is not rendered again and
            is missing from ``outputs`` (listed in ``kept``).
        progress: called with (outputs done, outputs in all) while rendering.
        emit: called with (path, bytes, previous record or None) for each
            rendered file once it passed validation, the state file last;
            then ``outputs`` stays empty. Default: collect into ``outputs``.

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
    items, warnings, next_state = _compile(documents, config, state, now)
    if not items:
        names = ", ".join(name for name, _ in documents) or "no documents"
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
    emit = emit or (lambda path, data, previous: outputs.__setitem__(path, data))
    records: list[OutputRecord] = []
    kept: list[str] = []
    jobs = _jobs(plan, config, items)
    item_keys: dict[int, bytes] = {}  # keys.item_key, shared by all outputs
    for done, job in enumerate(jobs, start=1):
        if progress is not None:
            progress(done, len(jobs))
        key = spec_key(job.spec, salt, item_keys)
        previous = reuse.get(job.path)
        if previous is not None and previous.key == key:
            records.append(previous)
            kept.append(job.path)
            continue
        data = job.render()
        validate_outputs({job.path: data})
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
    emit(STATE, dump_state(next_state), None)
    return BuildResult(
        items=tuple(items),
        warnings=tuple(warnings),
        outputs=outputs,
        state=next_state,
        kept=tuple(sorted(kept)),
    )


@dataclass(frozen=True, slots=True)
class _Job:
    """One output to publish: its path, what it shows, and how to render it."""

    path: str
    spec: object  # everything the output shows; keys.spec_key names its bytes
    render: Callable[[], bytes]


def _jobs(plan: Plan, config: Config, items: Sequence[Item]) -> list[_Job]:
    """Every output of a plan, not yet rendered."""
    jobs: list[_Job] = []
    for prefix, feed in plan.feeds:
        jobs.append(_Job(f"{prefix}{RSS}", ("rss", feed), partial(render_rss, feed)))
        jobs.append(_Job(f"{prefix}{ATOM}", ("atom", feed), partial(render_atom, feed)))
        jobs.append(
            _Job(
                f"{prefix}{JSON_FEED}",
                ("json", feed),
                partial(render_json_feed, feed),
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
    fragments = FragmentCache(uses)
    for archive in archives:
        jobs.append(
            _Job(
                archive.path,
                ("archive", archive.spec),
                partial(render_archive, archive.spec, fragments),
            )
        )
    for page in plan.pages:
        jobs.append(_Job(page.path, ("page", page), partial(render_page, page)))
    for page in plan.embeds:
        jobs.append(_Job(page.path, ("embed", page), partial(render_embed_page, page)))
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
