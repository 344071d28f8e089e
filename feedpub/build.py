"""Wire the stages: documents -> items -> plan -> rendered files -> disk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from feedpub.config import Config
from feedpub.errors import ConfigError, SourceError
from feedpub.model import Diagnostic, Item, RawItem
from feedpub.normalise import normalise_items
from feedpub.parse import decode_source, parse_document
from feedpub.plan import (
    ATOM,
    EMBED_SCRIPT,
    JSON_FEED,
    OPML,
    RSS,
    STYLESHEET,
    Plan,
    link_items,
    plan_feeds,
)
from feedpub.publish import PublishReport, read_sources, write_outputs
from feedpub.render.assets import embed_script
from feedpub.render.jsonfeed import render_json_feed
from feedpub.render.opml import render_opml
from feedpub.render.pages import render_embed_page, render_page, render_stylesheet
from feedpub.render.rss_atom import render_atom, render_rss
from feedpub.tagging import tag_items


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """What a build made: the items, the warnings and the rendered files."""

    items: tuple[Item, ...]
    warnings: tuple[Diagnostic, ...]
    outputs: dict[str, bytes]


def compile_items(
    documents: Sequence[tuple[str, bytes]], config: Config
) -> tuple[list[Item], list[Diagnostic]]:
    """Parse, normalise, tag and link the documents' items. Pure.

    Raises:
        SourceError: listing every problem in every document.
    """
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
    return link_items(tagged, config), warnings


def compile_site(documents: Sequence[tuple[str, bytes]], config: Config) -> BuildResult:
    """Turn documents into every output file, as bytes by relative path. Pure.

    Raises:
        ConfigError: the config has no ``base_url`` to make absolute URLs with.
        SourceError: a document is invalid or there are no items at all.
    """
    if not config.base_url:
        if config.path is None:
            raise ConfigError(
                "feedpub.toml: config file not found (give --config FILE);"
                " a build needs feed.base_url"
            )
        raise ConfigError(f"{config.path}: feed.base_url is required to build feeds")
    items, warnings = compile_items(documents, config)
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
    plan = plan_feeds(items, config)
    outputs: dict[str, bytes] = {}
    for prefix, feed in plan.feeds:
        outputs[f"{prefix}{RSS}"] = render_rss(feed)
        outputs[f"{prefix}{ATOM}"] = render_atom(feed)
    for page in plan.pages:
        outputs[page.path] = render_page(page)
    _add_web_outputs(outputs, plan, config)
    return BuildResult(items=tuple(items), warnings=tuple(warnings), outputs=outputs)


def _add_web_outputs(outputs: dict[str, bytes], plan: Plan, config: Config) -> None:
    """JSON Feeds, OPML, embed pages and script, and the feeds' XSL view."""
    feeds = [feed for _, feed in plan.feeds]
    for prefix, feed in plan.feeds:
        outputs[f"{prefix}{JSON_FEED}"] = render_json_feed(feed)
    for page in plan.embeds:
        outputs[page.path] = render_embed_page(page)
    outputs[EMBED_SCRIPT] = embed_script()
    # dateCreated from the data: the main feed's newest item.
    outputs[OPML] = render_opml(config.title, feeds, feeds[0].updated)
    if config.stylesheet:
        outputs[STYLESHEET] = render_stylesheet(config.language)


def build(
    config: Config, sources: Sequence[Path] = (), output: Path | None = None
) -> tuple[BuildResult, PublishReport]:
    """Read the sources, build everything and publish it to the output folder.

    Args:
        config: the validated configuration.
        sources: files or folders; default: the config's ``sources``.
        output: the output folder; default: the config's ``output``.

    Raises:
        FeedpubError: any problem, before anything is written when the input is bad.
    """
    documents = read_sources(sources or config.sources)
    result = compile_site(documents, config)
    report = write_outputs(result.outputs, output or config.output)
    return result, report
