"""Where a build's time goes: run ``feedpub build`` with timers on its stages.

    .venv/bin/python benchmarks/stages.py -- build -q -c CONFIG -o OUT

Everything after ``--`` is passed to feedpub's command line. The build runs as
usual (same files, same exit status); at the end, the time spent in each
stage below and the wall-clock time of the whole run go to standard error.
Stages nest: ``compile_site`` holds the others but ``read_state``,
``files_in_place`` and ``Publication.commit``, which the shell runs around
it; for items added at the top, ``compile_appended`` holds them instead
(``read_tail`` and ``_window`` read the state, ``_new_blocks`` the sources),
and for items changed in the newest years ``compile_edited`` (``_reread``
finds the text to read again, ``source_record`` hashes the sources),
and ``_render`` holds keying, rendering and checking the outputs. A
stage's time counts every call, the number of calls is shown beside it.
The state file is written in pieces as it is serialised, so its writing
counts under ``Publication.stage``. The sha256 of a file the writer process
writes comes with its answer, so waiting for the last answers counts under
``_render``, which makes the outputs' records once all are emitted.
The core is imported before the build starts, so "the whole run" of a build
that finds nothing changed includes imports that such a build skips.

These are the stages' own functions, wrapped where the shell and the pipeline
look them up, so each figure is the stage as a build runs it, with the
memory and caches a large build has (often slower than the same function
timed on its own).
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

# (module, function): looked up by the module named, so wrapped there.
STAGES = (
    ("feedpub.build", "read_tail"),
    ("feedpub.site", "compile_appended"),
    ("feedpub.site", "_new_blocks"),
    ("feedpub.site", "compile_edited"),
    ("feedpub.site", "_reread"),
    ("feedpub.site", "source_record"),
    ("feedpub.site", "_window"),
    ("feedpub.build", "read_state"),
    ("feedpub.build", "files_in_place"),
    ("feedpub.site", "compile_site"),
    ("feedpub.site", "_compile"),
    ("feedpub.site", "split_source"),
    ("feedpub.site", "block_digest"),
    ("feedpub.site", "_stubs"),
    ("feedpub.site", "_read"),
    ("feedpub.site", "read_block"),
    ("feedpub.site", "normalise_item"),
    ("feedpub.tagging", "Tagger.tag"),
    ("feedpub.site", "reconcile"),
    ("feedpub.site", "sorted_entries"),
    ("feedpub.site", "summarise"),
    ("feedpub.site", "plan_feeds"),
    ("feedpub.site", "_render"),
    ("feedpub.site", "_jobs"),
    ("feedpub.site", "spec_key"),
    ("feedpub.site", "_render_archive"),
    ("feedpub.site", "_check_archive"),
    ("feedpub.site", "render_page"),
    ("feedpub.site", "validate_outputs"),
    ("feedpub.publish", "Publication.stage"),
    ("feedpub.publish", "Publication.commit"),
)


def wrap(
    seconds: dict[str, float], calls: Counter[str], module: str, name: str
) -> None:
    """Replace ``module.name`` (``Class.method`` for a method) by a timed one."""
    owner: Any = importlib.import_module(module)
    *path, attribute = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    function: Callable[..., Any] = getattr(owner, attribute)

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] += time.perf_counter() - start
            calls[name] += 1

    setattr(owner, attribute, timed)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    started = time.perf_counter()
    seconds: dict[str, float] = dict.fromkeys((name for _, name in STAGES), 0.0)
    calls: Counter[str] = Counter()
    for module, name in STAGES:
        wrap(seconds, calls, module, name)
    from feedpub.cli import cli

    status = 0
    try:
        cli(args=argv, prog_name="feedpub")
    except SystemExit as e:  # click ends every run this way
        if e.code is None or isinstance(e.code, int):
            status = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            status = 1
    finally:
        total = time.perf_counter() - started
        lines = [f"{'stage':<28}{'seconds':>9}{'calls':>9}"]
        lines += [
            f"{name:<28}{seconds[name]:>9.2f}{calls[name]:>9}"
            for _, name in STAGES
            if calls[name]
        ]
        lines.append(f"{'the whole run':<28}{total:>9.2f}")
        print("\n".join(lines), file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
