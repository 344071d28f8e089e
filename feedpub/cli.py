"""The command line: argument handling only; the library does the work."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from feedpub import __version__
from feedpub.build import build as run_build
from feedpub.build import compile_items
from feedpub.config import Config, load_config
from feedpub.errors import FeedpubError
from feedpub.model import Diagnostic, Item
from feedpub.publish import read_sources
from feedpub.serve import make_server, server_url

_CONFIG = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="FEEDPUB_CONFIG",
    help="Config file (default: ./feedpub.toml; env FEEDPUB_CONFIG).",
)
_SOURCES = click.argument("sources", nargs=-1, type=click.Path(path_type=Path))


class FeedpubGroup(click.Group):
    """Turns every ``FeedpubError`` into its message on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeedpubError as e:
            click.echo(str(e), err=True)
            ctx.exit(1)


@click.group(cls=FeedpubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedpub")
def cli() -> None:
    """Publish RSS and Atom feeds from plain, date-headed news text.

    \b
    Example:
        feedpub build --quiet      # seeds/ + feedpub.toml -> feeds/
    """


@cli.command()
@_CONFIG
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: the config's output, feeds/).",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Print nothing on success (for cron)."
)
@_SOURCES
def build(
    config_path: Path | None,
    output: Path | None,
    quiet: bool,
    sources: tuple[Path, ...],
) -> None:
    """Build all feeds and pages into the output folder.

    SOURCES are files or folders of *.txt (default: the config's sources, seeds/).
    Files whose bytes did not change are not rewritten.

    \b
    Example:
        feedpub build --config feedpub.toml -o feeds/ seeds/
    """
    config = load_config(config_path)
    result, report = run_build(config, sources, output)
    if not quiet:
        _warn(result.warnings)
        out = output or config.output
        click.echo(
            f"wrote {len(report.written)} of {len(result.outputs)} files to {out}"
            f" ({len(result.items)} items, {len(config.topics)} topics)"
        )


@cli.command()
@_CONFIG
@_SOURCES
def check(config_path: Path | None, sources: tuple[Path, ...]) -> None:
    """Parse the sources and report problems; write nothing.

    \b
    Example:
        feedpub check seeds/news.txt
    """
    config = load_config(config_path)
    items, warnings = compile_items(read_sources(sources or config.sources), config)
    _warn(warnings)
    count = len(warnings)
    click.echo(f"{len(items)} items, {count} warning{'' if count == 1 else 's'}")


@cli.command()
@_CONFIG
@click.option("--topic", "-t", "slug", metavar="SLUG", help="Only items of this topic.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_SOURCES
def items(
    config_path: Path | None, slug: str | None, as_json: bool, sources: tuple[Path, ...]
) -> None:
    """Show what the parser made of the sources, in source order.

    \b
    Example:
        feedpub items --topic integration --json
    """
    config = load_config(config_path)
    if slug is not None and slug not in {t.slug for t in config.topics}:
        known = ", ".join(t.slug for t in config.topics) or "none configured"
        raise click.BadParameter(
            f"no topic {slug!r} (topics: {known})", param_hint="--topic"
        )
    found, _ = compile_items(read_sources(sources or config.sources), config)
    chosen = [i for i in found if slug is None or slug in i.topics]
    if as_json:
        click.echo(
            json.dumps(
                [_item_json(i, config) for i in chosen], ensure_ascii=False, indent=2
            )
        )
        return
    for item in chosen:
        topics = ", ".join(item.topics) or "-"
        click.echo(
            f"{item.day.isoformat()}  {item.source}:{item.line}"
            f"  [{topics}]  {item.title}"
        )


@cli.command()
@_CONFIG
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to serve (default: the config's output, feeds/).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address.")
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port; 0 picks a free one.",
)
def serve(config_path: Path | None, output: Path | None, host: str, port: int) -> None:
    """Preview the output folder over HTTP until Ctrl-C.

    \b
    Example:
        feedpub serve --port 8000    # then open http://127.0.0.1:8000/
    """
    config = load_config(config_path)
    folder = output or config.output
    server = make_server(folder, host, port)
    click.echo(f"serving {folder}/ at {server_url(server)}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _item_json(item: Item, config: Config) -> dict[str, Any]:
    return {
        "id": item.id,
        "date": item.day.isoformat(),
        "published": item.published.astimezone(config.timezone).isoformat(),
        "title": item.title,
        "author": item.author,
        "link": item.link,
        "topics": list(item.topics),
        "categories": [c.label for c in item.categories],
        "summary": item.summary,
        "paragraphs": list(item.paragraphs),
        "source": item.source,
        "line": item.line,
    }


def _warn(warnings: Iterable[Diagnostic]) -> None:
    for warning in warnings:
        click.echo(str(warning), err=True)
