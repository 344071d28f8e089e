"""Wire the stages: documents -> items -> plan -> rendered files -> disk."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from feedpub.config import Config
from feedpub.errors import ConfigError, SourceError
from feedpub.identity import reconcile
from feedpub.keys import salted, spec_key
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
from feedpub.publish import (
    Publication,
    PublishReport,
    build_clock,
    code_digest,
    files_in_place,
    locked_output,
    read_config_bytes,
    read_sources,
    read_state,
    remove_stale_temporaries,
    unchanged_since,
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
    for done, job in enumerate(jobs, start=1):
        if progress is not None:
            progress(done, len(jobs))
        key = spec_key(job.spec, salt) if job.key is None else salted(job.key, salt)
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
    key: str | None = None  # a key computed by the plan (archive documents)


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
    fragments = FragmentCache()  # an item is in several archives: render it once
    for archive in plan.archives:
        jobs.append(
            _Job(
                archive.path,
                None,
                partial(render_archive, archive.spec, fragments),
                key=archive.key,
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


def inputs_digest(documents: Sequence[tuple[str, bytes]], config: Config) -> str:
    """A digest of everything a build reads, naming documents relative to the config.

    Two builds with equal digests publish the same files, whatever the folder
    the project was cloned to.
    """
    base = config.path.parent if config.path is not None else None
    digest = hashlib.sha256(f"feedpub {code_digest()}\n".encode())
    digest.update(read_config_bytes(config.path))
    for name, data in documents:
        shown = Path(name)
        if base is not None and shown.is_relative_to(base):
            shown = shown.relative_to(base)
        digest.update(f"\n{shown.as_posix()}\n".encode())
        digest.update(hashlib.sha256(data).digest())
    return f"sha256:{digest.hexdigest()}"


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector during a build.

    A build makes millions of small objects and no reference cycles worth
    collecting; the collector's passes over them cost a third of a large
    build's time. Memory is freed by reference counting as before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_salt(config: Config) -> str:
    """What every output's key depends on besides its spec: the code and config."""
    config_digest = hashlib.sha256(read_config_bytes(config.path)).hexdigest()
    return f"{code_digest()}:{config_digest}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOptions:
    """How the shell runs a build: waiting for a lock, forcing a full build."""

    wait: float = 0.0  # seconds to wait for another build to finish
    force: bool = False  # render everything even when the inputs did not change
    progress: Callable[[int, int], None] | None = None  # see compile_site


def build(
    config: Config,
    sources: Sequence[Path] = (),
    output: Path | None = None,
    options: BuildOptions = BuildOptions(),
) -> tuple[BuildResult | None, PublishReport]:
    """Read the sources, build everything and publish it to the output folder.

    Holds the output folder's lock throughout (see ``publish.locked_output``).
    When the inputs' digest equals the one in the state file and every file the
    state lists is in place with its size, nothing is rendered and the result
    is ``None``. Otherwise outputs whose key (see ``keys.py``) is unchanged and
    whose file is in place are not rendered again; ``force`` renders them all.

    Args:
        config: the validated configuration.
        sources: files or folders; default: the config's ``sources``.
        output: the output folder; default: the config's ``output``.
        options: waiting and forcing.

    Raises:
        FeedpubError: any problem; nothing is written when the input is bad or
            an output fails validation.
    """
    out_dir = output or config.output
    documents = read_sources(sources or config.sources)
    inputs = inputs_digest(documents, config)
    with locked_output(out_dir, wait=options.wait):
        remove_stale_temporaries(out_dir)
        if not options.force and unchanged_since(out_dir, STATE, inputs):
            return None, PublishReport(written=(), unchanged=())
        state = read_state(out_dir, STATE)
        reuse = {}
        if state is not None and not options.force:
            reuse = {r.path: r for r in files_in_place(out_dir, state.outputs)}
        salt = build_salt(config)
        with Publication(out_dir, last=STATE) as publication, _no_collection():

            def stage(path: str, data: bytes, previous: OutputRecord | None) -> None:
                publication.stage(path, data, previous.sha256 if previous else None)

            result = compile_site(
                documents,
                config,
                state=state,
                now=build_clock(),
                inputs=inputs,
                salt=salt,
                reuse=reuse,
                progress=options.progress,
                emit=stage,
            )
            report = publication.commit()
    return result, report
