"""Compare the builds of two revisions of feedpub, run by run, on one corpus.

    .venv/bin/python benchmarks/compare.py --base e55d65b --items 100000 --runs 5

On this machine the same build varies by up to a third from one run to the
next, so a change of a few percent does not show in ``run.py``'s medians.
This command measures the same build with the code of two revisions, in
alternating order (base, head, head, base, ...), so drift hits both alike,
and reports each revision's runs, their medians and the median of the
per-run ratios head / base.

Each revision is checked out into a worktree of the repository (``git
worktree add --detach``) and run as ``python -m feedpub`` with that worktree
first on ``PYTHONPATH``; the interpreter, and so the libraries, are those of
the environment this command runs in. A rebuild ("one new item", "nothing
changed") starts from an output that the same revision built (untimed): a
build keys its outputs by its own code, so another revision's output would
be rebuilt in full.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402
    Sample,
    Trash,
    changed,
    corpus_files,
    linked_copy,
    machine,
    measure,
    put_on_top,
    snapshot,
)

SCENARIOS = ("feeds_only", "scratch", "unchanged", "one_new")
LABELS = {
    "feeds_only": "from scratch, no RFC 5005",
    "scratch": "full build from scratch",
    "unchanged": "rebuild, nothing changed",
    "one_new": "rebuild, one new item",
}


@dataclass
class Revision:
    """A revision under test: its name, commit and worktree."""

    name: str
    commit: str
    tree: Path
    samples: dict[str, list[Sample]] = field(default_factory=dict)


def commit_of(repo: Path, revision: str) -> str:
    found = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip()


def checkout(repo: Path, commit: str, tree: Path) -> None:
    shutil.rmtree(tree, ignore_errors=True)
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "--detach", str(tree), commit],
        check=True,
        capture_output=True,
    )


def remove(repo: Path, tree: Path) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)],
        check=False,
        capture_output=True,
    )
    shutil.rmtree(tree, ignore_errors=True)


def compare(
    repo: Path,
    revisions: tuple[str, str],
    items: int,
    runs: int,
    scenarios: list[str],
    work: Path,
    seed: int = 2020,
) -> list[Revision]:
    """Measure ``scenarios`` for both revisions, alternating; see the module."""
    files = corpus_files(work, items, seed)
    folder, config, feeds_config = files.folder, files.config, files.feeds_config
    sources, source, original = files.sources, files.source, files.original
    out = work / f"compare-out-{items}"
    tested = [
        Revision(
            name=name,
            commit=(commit := commit_of(repo, name)),
            tree=work / f"compare-tree-{index}-{commit[:12]}",
        )
        for index, name in enumerate(revisions)
    ]
    python = sys.executable

    def build(revision: Revision, config: Path, into: Path) -> Sample:
        command = [python, "-m", "feedpub", "build", "-q", "-c", str(config)]
        return measure(
            [*command, "-o", str(into)],
            folder,
            sources,
            env={**os.environ, "PYTHONPATH": str(revision.tree)},
        )

    def pristine(revision: Revision) -> Path:
        return work / f"compare-pristine-{revision.tree.name}"

    trash = Trash(work)  # see Trash: no folder is removed between runs
    try:
        for revision in tested:
            checkout(repo, revision.commit, revision.tree)
            revision.samples = {name: [] for name in scenarios}
            if {"unchanged", "one_new"} & set(scenarios):
                trash.discard(pristine(revision))
                build(revision, config, pristine(revision))  # untimed
        for run in range(runs):
            order = tested if run % 2 == 0 else tested[::-1]
            for name in scenarios:
                for revision in order:
                    trash.discard(out)
                    if name == "feeds_only":
                        sample = build(revision, feeds_config, out)
                    elif name == "scratch":
                        sample = build(revision, config, out)
                    else:
                        linked_copy(pristine(revision), out)
                        before = snapshot(out)
                        if name == "one_new":
                            put_on_top(files.new_item, source, original)
                        try:
                            sample = build(revision, config, out)
                        finally:
                            shutil.copyfile(original, source)
                        sample.written = changed(before, snapshot(out))
                    revision.samples[name].append(sample)
    finally:
        shutil.copyfile(original, source)
        trash.discard(out)
        for revision in tested:
            trash.discard(pristine(revision))
            remove(repo, revision.tree)
        trash.empty()
    return tested


def report(tested: list[Revision], items: int, runs: int) -> str:
    base, head = tested
    info = machine()
    lines = [
        f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}"
        f" (load at start {info['load']})",
        f"{items} items, {runs} run(s) each, alternating; base {base.name}"
        f" ({base.commit[:12]}), head {head.name} ({head.commit[:12]})",
        "",
        f"{'measurement':28} {'base s':>8} {'head s':>8} {'head/base':>10}"
        f" {'base MB':>8} {'head MB':>8}  runs: base / head seconds",
    ]
    for name in base.samples:
        a, b = base.samples[name], head.samples[name]
        ratio = statistics.median(
            y.seconds / x.seconds for x, y in zip(a, b, strict=True)
        )
        lines.append(
            f"{LABELS[name]:28} {statistics.median(s.seconds for s in a):8.3f}"
            f" {statistics.median(s.seconds for s in b):8.3f} {ratio:10.3f}"
            f" {max(s.peak_mb for s in a):8.1f} {max(s.peak_mb for s in b):8.1f}"
            f"  {' '.join(f'{s.seconds:.2f}' for s in a)}"
            f" / {' '.join(f'{s.seconds:.2f}' for s in b)}"
        )
    lines.append(
        "head/base: the median of the ratios of runs made next to each other;"
        " below 1: head is faster."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the revision to compare with")
    parser.add_argument("--head", default="HEAD", help="the revision under test")
    parser.add_argument("--items", type=int, default=100000, help="corpus size")
    parser.add_argument("--runs", type=int, default=5, help="runs per revision")
    parser.add_argument(
        "--measure",
        default="one_new",
        help=f"comma-separated, of {', '.join(SCENARIOS)} (default one_new)",
    )
    parser.add_argument("--seed", type=int, default=2020, help="corpus seed")
    parser.add_argument(
        "--repo", type=Path, default=HERE.parent, help="the git repository"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "feedpub-bench",
        help="folder for corpora (cached, shared with run.py), trees and outputs",
    )
    args = parser.parse_args(argv)
    scenarios = [s for s in args.measure.split(",") if s]
    unknown = sorted(set(scenarios) - set(SCENARIOS))
    if unknown or not scenarios:
        parser.error(f"--measure: expected some of {', '.join(SCENARIOS)}")
    if args.runs < 1 or args.items < 1:
        parser.error("--runs and --items must be at least 1")
    args.work.mkdir(parents=True, exist_ok=True)
    tested = compare(
        args.repo,
        (args.base, args.head),
        args.items,
        args.runs,
        scenarios,
        args.work,
        args.seed,
    )
    print(report(tested, args.items, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
