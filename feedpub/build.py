"""Wire the stages: documents -> items -> plan -> rendered files -> disk."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from feedpub.config import Config
from feedpub.errors import ConfigError, SourceError
from feedpub.identity import reconcile
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
    link_items,
    plan_feeds,
)
from feedpub.publish import (
    PublishReport,
    build_clock,
    code_digest,
    locked_output,
    read_config_bytes,
    read_sources,
    read_state,
    remove_stale_temporaries,
    unchanged_since,
    write_outputs,
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
    outputs: dict[str, bytes]
    state: State = field(default_factory=State)


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
    warnings.extend(found)
    tagged, found = tag_items(normalised, config.topics)
    warnings.extend(found)
    order = {name: index for index, (name, _) in enumerate(documents)}
    warnings.sort(key=lambda d: (order.get(d.source, -1), d.line))
    previous = state or State()
    identified, entries = reconcile(tagged, previous.entries, now)
    next_state = State(
        inputs=previous.inputs,
        topics=tuple((t.slug, t.name) for t in config.topics),
        retired=_retired(previous, config, now),
        entries=tuple(sorted_entries(entries)),
    )
    return link_items(identified, config), warnings, next_state


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
) -> BuildResult:
    """Turn documents into every output file, as bytes by relative path. Pure.

    Args:
        documents: ``(name, bytes)`` in build order.
        config: the validated configuration.
        state: the state of the last build, if any (see ``state.py``).
        now: the time of this build; used only for items edited since the last
            build and for topics removed since (never written otherwise).
        inputs: a digest of everything the build read, kept in the new state.

    Raises:
        ConfigError: the config has no ``base_url`` to make absolute URLs with.
        SourceError: a document is invalid or there are no items at all.
        ValidationError: a rendered file fails the checks (nothing is returned).
    """
    if not config.base_url:
        if config.path is None:
            raise ConfigError(
                "feedpub.toml: config file not found (give --config FILE);"
                " a build needs feed.base_url"
            )
        raise ConfigError(f"{config.path}: feed.base_url is required to build feeds")
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
    for prefix, feed in plan.feeds:
        outputs[f"{prefix}{RSS}"] = render_rss(feed)
        outputs[f"{prefix}{ATOM}"] = render_atom(feed)
    fragments = FragmentCache()  # an item is in several archives: render it once
    for archive in plan.archives:
        outputs[archive.path] = render_archive(archive.spec, fragments)
    for page in plan.pages:
        outputs[page.path] = render_page(page)
    _add_web_outputs(outputs, plan, config, items)
    validate_outputs(outputs)
    next_state = State(
        inputs=inputs,
        outputs=tuple(
            OutputRecord(
                path=name, size=len(data), sha256=hashlib.sha256(data).hexdigest()
            )
            for name, data in sorted(outputs.items())
        ),
        topics=next_state.topics,
        retired=next_state.retired,
        entries=next_state.entries,
    )
    outputs[STATE] = dump_state(next_state)
    return BuildResult(
        items=tuple(items),
        warnings=tuple(warnings),
        outputs=outputs,
        state=next_state,
    )


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


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOptions:
    """How the shell runs a build: waiting for a lock, forcing a full build."""

    wait: float = 0.0  # seconds to wait for another build to finish
    force: bool = False  # render everything even when the inputs did not change


def _add_web_outputs(
    outputs: dict[str, bytes], plan: Plan, config: Config, items: Sequence[Item]
) -> None:
    """JSON Feeds, OPML, embed pages and script, and the feeds' XSL view."""
    current = {""} | {t.slug for t in config.topics}  # not the retired topics
    feeds = [feed for _, feed in plan.feeds if feed.key in current]
    for prefix, feed in plan.feeds:
        outputs[f"{prefix}{JSON_FEED}"] = render_json_feed(feed)
    for page in plan.embeds:
        outputs[page.path] = render_embed_page(page)
    outputs[EMBED_SCRIPT] = embed_script()
    # dateCreated from the data, and one that does not move with every new or
    # edited item: the list of feeds only changes with the config.
    first = min(i.published for i in items)
    outputs[OPML] = render_opml(config.title, feeds, first)
    if config.stylesheet:
        outputs[STYLESHEET] = render_stylesheet(config.language)


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
    is ``None``.

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
        result = compile_site(
            documents, config, state=state, now=build_clock(), inputs=inputs
        )
        report = write_outputs(result.outputs, out_dir, last=STATE)
    return result, report
