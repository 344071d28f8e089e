"""The command line: argument handling only; the library does the work."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from feedpub import __version__
from feedpub.basics import Diagnostic
from feedpub.build import BuildOptions
from feedpub.build import build as run_build
from feedpub.config import Config, load_config
from feedpub.errors import BusyError, FeedpubError
from feedpub.publish import build_clock, read_config_bytes, read_sources, read_state
from feedpub.state import STATE_FILE as STATE

if TYPE_CHECKING:
    from feedpub.model import Item

# The pipeline (feedpub.site), the lint and the server are imported by the
# commands that use them, so `feedpub build` with nothing to do stays cheap.

BUSY_EXIT = 75  # EX_TEMPFAIL from sysexits.h: try again later


class _Terminated(Exception):
    """SIGTERM arrived: unwind like Ctrl-C, so temporary files are removed."""


@contextlib.contextmanager
def _terminate_as_exception() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_CONFIG = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False, readable=False),
    envvar="FEEDPUB_CONFIG",
    help="Config file (default: ./feedpub.toml; env FEEDPUB_CONFIG).",
)


def _output(text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--output/-o`` option, with the command's own help text."""
    return click.option(
        "--output", "-o", type=click.Path(path_type=Path, file_okay=False), help=text
    )


_SOURCES = click.argument("sources", nargs=-1, type=click.Path(path_type=Path))


class FeedpubGroup(click.Group):
    """Turns every ``FeedpubError`` into its message on stderr and exit code 1.

    A build that finds the output folder locked exits with the code its
    ``--busy-exit`` option gives (default 75).
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _terminate_as_exception():
                return super().invoke(ctx)
        except (KeyboardInterrupt, _Terminated) as e:
            number = signal.SIGTERM if isinstance(e, _Terminated) else signal.SIGINT
            click.echo(f"feedpub: stopped by {signal.Signals(number).name}", err=True)
            ctx.exit(128 + number)
        except BusyError as e:
            click.echo(str(e), err=True)
            ctx.exit(ctx.meta.get("feedpub.busy_exit", BUSY_EXIT))
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
@_output("Output folder (default: the config's output, feeds/).")
@click.option(
    "--quiet", "-q", is_flag=True, help="Print nothing on success (for cron)."
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for another build of the same folder to finish.",
)
@click.option(
    "--busy-exit",
    type=click.IntRange(0, 255),
    default=BUSY_EXIT,
    show_default=True,
    metavar="CODE",
    help="Exit code when another build still runs after --wait.",
)
@click.option(
    "--force", is_flag=True, help="Render everything even if no input changed."
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 2),
    default=2,
    show_default=True,
    help="Processes of a large build (2: a helper reads half of the items,"
    " another writes and checks the files).",
)
@_SOURCES
@click.pass_context
def build(
    ctx: click.Context,
    config_path: Path | None,
    output: Path | None,
    quiet: bool,
    wait: float,
    busy_exit: int,
    force: bool,
    jobs: int,
    sources: tuple[Path, ...],
) -> None:
    """Build all feeds and pages into the output folder.

    SOURCES are files or folders of *.txt (default: the config's sources, seeds/).
    Files whose bytes did not change are not rewritten; when no input changed
    since the last build, nothing is rendered at all.

    \b
    Example:
        feedpub build --config feedpub.toml -o feeds/ seeds/
        feedpub build --quiet --wait 60     # in a crontab
    """
    ctx.meta["feedpub.busy_exit"] = busy_exit
    config = load_config(config_path)
    # A progress bar only for a person watching: never under cron or --quiet.
    bar = _ProgressBar() if not quiet and sys.stderr.isatty() else None
    options = BuildOptions(wait=wait, force=force, progress=bar, jobs=jobs)
    try:
        result, report = run_build(config, sources, output, options)
    finally:
        if bar is not None:
            bar.close()
    if quiet:
        return
    out = output or config.output
    if result is None:
        click.echo(f"nothing changed since the last build of {out}")
        return
    _warn(result.warnings)
    click.echo(
        f"wrote {len(report.written)} of"
        f" {len(report.written) + len(report.unchanged) + len(result.kept)}"
        f" files to {out}"
        f" ({_count(result.count, 'item')}, {_count(len(config.topics), 'topic')})"
    )


@cli.command()
@_CONFIG
@click.option("--strict", is_flag=True, help="Exit 1 if there is any warning (for CI).")
@_SOURCES
@click.pass_context
def check(
    ctx: click.Context,
    config_path: Path | None,
    strict: bool,
    sources: tuple[Path, ...],
) -> None:
    """Lint the sources: report errors and warnings with file:line; write nothing.

    Warns about future dates, duplicate items, items that match no topic, long
    titles, headers without text and items out of date order, besides what the
    parser reports; without SOURCES, about topics that hold no item too.
    Errors always exit 1; warnings only with --strict.

    \b
    Example:
        feedpub check --strict seeds/news.txt
    """
    config = load_config(config_path)
    from feedpub.lint import lint_items, lint_topics
    from feedpub.site import compile_items

    documents = read_sources(sources or config.sources, config.output)
    items, warnings = compile_items(documents, config)
    today = build_clock().astimezone(config.timezone).date()
    order = {
        name: index for index, name in enumerate(dict.fromkeys(i.source for i in items))
    }
    if not sources and config.path is not None:  # all of the topics' items
        warnings += lint_topics(
            items,
            config,
            str(config.path),
            read_config_bytes(config.path).decode("utf-8", "replace"),
        )
    found = sorted(
        [*warnings, *lint_items(items, config, today)],
        key=lambda d: (order.get(d.source, -1), d.line),
    )
    _warn(found)
    count = len(found)
    click.echo(f"{_count(len(items), 'item')}, {_count(count, 'warning')}")
    if strict and found:
        ctx.exit(1)


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
    state = read_state(config.output, STATE)
    from feedpub.site import compile_items

    found, _ = compile_items(
        read_sources(sources or config.sources, config.output),
        config,
        state,
        build_clock(),
    )
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
@_output("Folder to serve (default: the config's output, feeds/).")
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
    from feedpub.serve import make_server, server_url

    server = make_server(folder, host, port)
    click.echo(f"serving {folder}/ at {server_url(server)}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


class _ProgressBar:
    """Shows rendering progress on stderr once a build takes a moment."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(
                length=total, label="rendering", file=sys.stderr
            )
            self._bar.__enter__()
        self._bar.update(done - self._bar.pos)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _item_json(item: Item, config: Config) -> dict[str, Any]:
    from feedpub.dates import local_time  # as the feeds show the times

    return {
        "id": item.id,
        "date": item.day.isoformat(),
        "published": local_time(item.published, config.timezone).isoformat(),
        "updated": local_time(item.modified, config.timezone).isoformat(),
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


def _count(number: int, noun: str) -> str:
    """``1 item``, ``2 items``: an English count."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
