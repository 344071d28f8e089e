"""Measure feedpub builds against two baselines and check the issue's targets.

    .venv/bin/python benchmarks/run.py --sizes 1000,10000,100000 --runs 5

For each corpus size (generated once by ``corpus.py`` and cached in the work
folder) every run measures, each in its own child process:

* baseline (a): ``baseline_regex.py``, regex parse + newest 50 per feed in
  RSS and Atom with plain feedgen;
* baseline (b): ``baseline_startup.py``, start Python, import the libraries,
  hash the sources;
* ``feedpub build`` from scratch with ``feed.history = "recent"``: the
  subscription feeds and the pages they link to, from the newest years alone
  (the issue's "subscription feeds and pages");
* the same build again after one new item was put at the top of the corpus
  (how a cron job of such a site runs; not a target of the issue);
* ``feedpub build`` from scratch without RFC 5005 archive documents
  (``feed.archives = false``): the subscription feeds and a yearly page of
  every year, so every item is read;
* ``feedpub build`` from scratch (empty output folder), everything;
* ``feedpub build`` again with nothing changed;
* ``feedpub build`` after one new item was put at the top of the corpus;
* the same with the item dated on the newest day of the corpus, beside its
  items (not a target of the issue: the other usual cron run)
  (corpus and output folder are reset before each of the last two).

feedpub's modules are compiled to bytecode first (``compile_feedpub``), as
an installed package's are. Runs are interleaved, so machine noise hits all
of them alike. Times are
wall-clock medians; memory is each child's own peak RSS (``ru_maxrss`` from
``os.wait4``), or, if larger, the peak of the sum of the proportional set
sizes of the child and its own children (a build's helper process,
``feedpub/spread.py``), sampled every 0.1 s (``TreeMemory``). Run it with
the Python of the environment feedpub is installed in: it starts
``python -m feedpub`` with that same interpreter.
"""

from __future__ import annotations

import argparse
import compileall
import errno
import hashlib
import importlib.util
import itertools
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import cache, partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

SCENARIOS = (
    "baseline_a",
    "baseline_b",
    "recent",
    "recent_one_new",
    "feeds_only",
    "scratch",
    "unchanged",
    "one_new",
    "same_day",
    "edited",
)
LABELS = {
    "baseline_a": "baseline (a) regex + feedgen",
    "baseline_b": "baseline (b) start + import + hash",
    "recent": "feedpub from scratch, history recent",
    "recent_one_new": "  the same, one new item",
    "feeds_only": "feedpub from scratch, no RFC 5005",
    "scratch": "feedpub build from scratch",
    "unchanged": "feedpub rebuild, nothing changed",
    "one_new": "feedpub rebuild, one new item",
    "same_day": "  the same, on the newest day",
    "edited": "feedpub rebuild, one item edited",
}
MAX_MEMORY_MB = 300.0


@dataclass
class Sample:
    """One child process: wall time, its own peak RSS, files it (re)wrote."""

    seconds: float
    peak_mb: float
    written: int | None = None


@dataclass
class SizeResult:
    items: int
    corpus_mb: float
    outputs: int = 0
    wide: bool = False  # made-up word endings (corpus.py --wide-vocabulary)
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def median(self, scenario: str) -> float:
        return statistics.median(s.seconds for s in self.samples[scenario])

    def peak(self, scenario: str) -> float:
        return max(s.peak_mb for s in self.samples[scenario])

    def written(self, scenario: str) -> int | None:
        counts = [s.written for s in self.samples[scenario] if s.written is not None]
        return max(counts) if counts else None


class Trash:
    """Where the benchmark puts the folders it is done with, until it ends.

    On ext4 without a journal, files created just after many were removed
    are slow to create (``recently_deleted`` in ``fs/ext4/ialloc.c``; see
    ``benchmarks/README.md``): removing one build's output before the next
    cost that build about 7 s at 100k items. A used folder is renamed into
    the trash instead, which frees no inode, and the trash is emptied once,
    after the last measurement (``empty``).
    """

    def __init__(self, work: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="trash-", dir=work))
        self._names = itertools.count()

    def discard(self, folder: Path) -> None:
        """Move ``folder`` (if it is there) out of the way."""
        if folder.exists():
            folder.rename(self.folder / f"{next(self._names)}-{folder.name}")

    def empty(self) -> None:
        """Remove this trash; another invocation's stays untouched (an
        invocation stopped midway leaves its own behind)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def linked_copy(source: Path, target: Path) -> None:
    """``target`` as a copy of the output folder ``source``, its files hard
    links: a build publishes a file by renaming a new one over it, never by
    writing into it, so the copy stays as it was. Unlike a copy it makes no
    inode but its folders', and the trash holds no second copy of 0.9 GB per
    run. Where the file system makes no hard links, the files are copied.

    A rebuild over links frees no inode or block when it replaces a file
    (the other link keeps them), where a rebuild over a copy would: about
    20 ms for the 12 files and the 56 MB state of a rebuild at 100k items
    (21 ms against 0.2 ms, renames timed apart), left out of its time.
    """
    shutil.copytree(source, target, copy_function=_link_or_copy)


# Where os.link fails for want of hard links (another file system, one
# without them, too many links): copy instead, and say so once.
_NO_LINKS = {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError as e:
        if e.errno not in _NO_LINKS:
            raise
        _say_copying(e.strerror or str(e))
        shutil.copy2(source, target)


@cache
def _say_copying(reason: str) -> None:
    print(f"no hard links ({reason}): rebuilds start from copies", file=sys.stderr)


def measure(
    command: list[str],
    cwd: Path,
    warm: Path | None = None,
    env: dict[str, str] | None = None,
) -> Sample:
    """Run one child process to its end; fail loudly if it fails.

    Untimed, first: dirty pages of earlier steps (a full build writes 0.9 GB
    at 100k items) are flushed, so each measurement pays for its own writes
    only; and the corpus ``warm`` (a file or folder) is read once, so every
    measurement starts with the sources in the page cache as the baselines
    do (this machine's kernel reclaims cold pages early, and a build's
    writes evict the corpus). ``env``: the child's
    environment (default: this one's).
    """
    os.sync()
    if warm is not None:
        for file in [warm] if warm.is_file() else sorted(warm.rglob("*")):
            if file.is_file():
                file.read_bytes()
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
        tree = TreeMemory(child.pid)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        tree_mb = tree.stop()
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(command)} failed:\n{message}")
    peak_mb = max(usage.ru_maxrss / 1024, tree_mb)  # KiB on Linux
    return Sample(seconds=seconds, peak_mb=peak_mb)


class TreeMemory(threading.Thread):
    """Samples the sum of ``Pss`` (``/proc/PID/smaps_rollup``) over a process
    and its descendants every 0.1 s: pages two processes share count half
    in each, so the sum is the memory they hold together. ``ru_maxrss``
    counts one process; a process and a helper forked from it would each
    count the pages they share in full, or, read alone, hide the helper."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self._pid = pid
        self._done = threading.Event()
        self.peak_kb = 0
        self.start()

    def run(self) -> None:
        while not self._done.wait(0.1):
            # The processes are read one after the other: a sample during
            # which one was forked, started or ended may count the pages
            # they share at different moments, and is dropped.
            pids = _tree(self._pid)
            total = sum(map(_pss_kb, pids))
            if _tree(self._pid) == pids:
                self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> float:
        """Stop sampling; the peak in MB."""
        self._done.set()
        self.join()
        return self.peak_kb / 1024


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid, *(p for c in children for p in _tree(int(c)))]


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Inode and mtime of every file: a rename or rewrite changes them."""
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def changed(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> int:
    return sum(1 for name, mark in after.items() if before.get(name) != mark)


def prepare_corpus(work: Path, items: int, seed: int, wide: bool = False) -> Path:
    """Generate the corpus once; regenerate when the generator changes.

    The generator runs as a child process: this process stays small, because
    a child starts with its parent's peak RSS already counted in ``ru_maxrss``.
    """
    folder = work / f"corpus-{items}-{seed}{'-wide' if wide else ''}"
    stamp = hashlib.sha256((HERE / "corpus.py").read_bytes()).hexdigest()
    stamp_file = folder / ".generator"
    if not stamp_file.is_file() or stamp_file.read_text() != stamp:
        shutil.rmtree(folder, ignore_errors=True)
        command = [sys.executable, str(HERE / "corpus.py"), "--items", str(items)]
        command += ["--out", str(folder), "--seed", str(seed)]
        command += ["--wide-vocabulary"] if wide else []
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        stamp_file.write_text(stamp)
    return folder


def put_on_top(text: str, source: Path, original: Path) -> None:
    """Write ``text`` and then the original corpus to ``source``, in chunks."""
    with source.open("wb") as out, original.open("rb") as rest:
        out.write(text.encode("utf-8"))
        shutil.copyfileobj(rest, out)


EDIT = b" Aktualisiert am Folgetag."


def edit_near_top(source: Path, original: Path) -> None:
    """Write the original corpus to ``source`` with a sentence added to the
    first paragraph that ends 3,000 bytes or more into it (of about the
    fifth item, of the newest year): a typo fixed, a date put right. Only
    paragraphs end with ".": a header line ends with its date or byline."""
    with source.open("wb") as out, original.open("rb") as rest:
        top = rest.read(1 << 16)
        at = top.index(b".\n\n", 3000) + 1
        out.write(top[:at] + EDIT + top[at:])
        shutil.copyfileobj(rest, out)


@dataclass(frozen=True)
class Corpus:
    """A prepared corpus: its configs, its source and the original to reset it."""

    folder: Path
    config: Path  # every output
    feeds_config: Path  # the same, with feed.archives = false
    recent_config: Path  # the same, with feed.history = "recent"
    sources: Path  # the folder of sources
    source: Path  # the one source file
    original: Path  # a copy of it that is no source (not *.txt)
    new_item: str  # one item for the top of the source
    same_day_item: str  # one item of the newest day, for the same place


def corpus_files(work: Path, items: int, seed: int, wide: bool = False) -> Corpus:
    """``prepare_corpus`` and what a measurement needs of it."""
    folder = prepare_corpus(work, items, seed, wide)
    config = folder / corpus.CONFIG_FILE
    # Beside the config: the same sources.
    feeds_config = folder / "feeds-only.toml"
    recent_config = folder / "recent.toml"
    for path, setting in (
        (feeds_config, "archives = false"),
        (recent_config, 'history = "recent"'),
    ):
        path.write_text(
            config.read_text(encoding="utf-8").replace(
                "[feed]\n", f"[feed]\n{setting}\n", 1
            ),
            encoding="utf-8",
        )
    sources = folder / corpus.SOURCE_DIR
    source = sources / corpus.SOURCE_FILE
    original = folder / "original.bak"
    if not original.is_file():
        shutil.copyfile(source, original)
    return Corpus(
        folder=folder,
        config=config,
        feeds_config=feeds_config,
        recent_config=recent_config,
        sources=sources,
        source=source,
        original=original,
        new_item=corpus.new_item() + "\n",
        same_day_item=corpus.new_item(days=0) + "\n",
    )


def run_size(
    work: Path, items: int, runs: int, seed: int, trash: Trash, wide: bool = False
) -> SizeResult:
    files = corpus_files(work, items, seed, wide)
    folder, config, sources = files.folder, files.config, files.sources
    source, original, new_item = files.source, files.original, files.new_item
    result = SizeResult(items=items, corpus_mb=source.stat().st_size / 1e6, wide=wide)
    result.samples = {name: [] for name in SCENARIOS}
    out = work / f"out-{items}"
    pristine = work / f"pristine-{items}"
    baseline_out = work / f"baseline-{items}"
    python = sys.executable
    feedpub = [python, "-m", "feedpub", "build", "-q", "-c", str(config), "-o"]
    feeds_only = [*feedpub[:-3], "-c", str(files.feeds_config), "-o"]
    recent = [*feedpub[:-3], "-c", str(files.recent_config), "-o"]

    fresh = trash.discard
    try:
        for _ in range(runs):
            fresh(baseline_out)
            result.samples["baseline_a"].append(
                measure(
                    [
                        python,
                        str(HERE / "baseline_regex.py"),
                        str(config),
                        str(baseline_out),
                    ],
                    folder,
                    sources,
                )
            )
            result.samples["baseline_b"].append(
                measure(
                    [python, str(HERE / "baseline_startup.py"), str(sources)],
                    folder,
                    sources,
                )
            )

            fresh(out)
            sample = measure([*recent, str(out)], folder, sources)
            before = snapshot(out)
            sample.written = len(before)
            result.samples["recent"].append(sample)
            put_on_top(new_item, source, original)
            try:
                sample = measure([*recent, str(out)], folder, sources)
            finally:
                shutil.copyfile(original, source)
            sample.written = changed(before, snapshot(out))
            result.samples["recent_one_new"].append(sample)

            fresh(out)
            sample = measure([*feeds_only, str(out)], folder, sources)
            sample.written = len(snapshot(out))
            result.samples["feeds_only"].append(sample)

            fresh(out)
            sample = measure([*feedpub, str(out)], folder, sources)
            after = snapshot(out)
            sample.written = len(after)
            result.outputs = len(after)
            result.samples["scratch"].append(sample)
            fresh(pristine)
            linked_copy(out, pristine)

            sample = measure([*feedpub, str(out)], folder, sources)
            sample.written = changed(after, snapshot(out))
            result.samples["unchanged"].append(sample)

            for name, change in (
                ("one_new", partial(put_on_top, new_item)),
                ("same_day", partial(put_on_top, files.same_day_item)),
                ("edited", edit_near_top),
            ):
                fresh(out)
                linked_copy(pristine, out)
                before = snapshot(out)
                change(source, original)
                try:
                    sample = measure([*feedpub, str(out)], folder, sources)
                finally:
                    shutil.copyfile(original, source)
                sample.written = changed(before, snapshot(out))
                result.samples[name].append(sample)
    finally:
        shutil.copyfile(original, source)
        for folder_ in (out, pristine, baseline_out):
            fresh(folder_)
    return result


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def report(results: list[SizeResult], info: dict[str, str], runs: int) -> str:
    lines = [
        f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']},"
        f" {info['platform']} (load at start {info['load']})",
        f"runs per measurement: {runs}; times are medians of wall-clock seconds",
    ]
    for r in results:
        a, b = r.median("baseline_a"), r.median("baseline_b")
        lines += [
            "",
            f"== {r.items} items, 20 topics, corpus {r.corpus_mb:.1f} MB"
            f"{', wide vocabulary' if r.wide else ''}, {r.outputs} output files ==",
            f"{'measurement':36} {'median s':>9} {'min s':>7} {'peak MB':>8}"
            f" {'x (a)':>7} {'x (b)':>7} {'files written':>14}",
        ]
        for name in SCENARIOS:
            median = r.median(name)
            fastest = min(s.seconds for s in r.samples[name])
            written = r.written(name)
            lines.append(
                f"{LABELS[name]:36} {median:9.3f} {fastest:7.3f} {r.peak(name):8.1f}"
                f" {median / a:7.2f} {median / b:7.2f}"
                f" {'' if written is None else written:>14}"
            )
        scratch = r.median("scratch") / a
        feeds = r.median("recent") / a
        every_page = r.median("feeds_only") / a
        unchanged = r.median("unchanged") / b
        one_new = r.median("one_new") / a
        peak = max(r.peak(n) for n in SCENARIOS if not n.startswith("baseline"))
        lines += [
            f"targets (the issue sets them at 100000 items) at {r.items} items:",
            f"  subscription feeds and pages from scratch <= 1.5x (a): "
            f"{feeds:6.2f}x  {mark(feeds <= 1.5)}  (history = recent;"
            f" with every yearly page, archives = false: {every_page:.2f}x)",
            f"  full build incl. complete archives       <= 8x (a):   "
            f"{scratch:6.2f}x  {mark(scratch <= 8)}",
            f"  rebuild, nothing changed                 <= 1.3x (b): "
            f"{unchanged:6.2f}x  {mark(unchanged <= 1.3)}",
            f"  one new item at the top                  <= 1.0x (a): "
            f"{one_new:6.2f}x  {mark(one_new <= 1.0)}"
            f"  ({r.written('one_new')} of {r.outputs} files rewritten)",
            f"  peak memory of any feedpub build         <= {MAX_MEMORY_MB:.0f} MB:"
            f"  {peak:6.1f} MB  {mark(peak <= MAX_MEMORY_MB)}",
        ]
    for small, large in itertools.pairwise(results):
        factor = large.items / small.items
        if factor <= 1:
            continue

        def per_ten(ratio: float, factor: float = factor) -> float:
            return float(ratio ** (math.log(10) / math.log(factor)))

        time_ratio = large.median("scratch") / small.median("scratch")
        memory_ratio = large.peak("scratch") / small.peak("scratch")
        lines += [
            "",
            f"growth {small.items} -> {large.items} items (x{factor:g}), from scratch;"
            " linear means <= 10x per 10x items (pass up to 11x):",
            f"  time   x{time_ratio:.2f}  = x{per_ten(time_ratio):.2f} per 10x items"
            f"  {mark(per_ten(time_ratio) <= 11)}",
            f"  memory x{memory_ratio:.2f}  = x{per_ten(memory_ratio):.2f}"
            " per 10x items"
            f"  {mark(per_ten(memory_ratio) <= 11)}",
        ]
    return "\n".join(lines)


def compile_feedpub() -> None:
    """Compile feedpub's modules to bytecode, as the libraries of baseline
    (b) are: pip compiles a package it installs, and Python writes the
    bytecode of what it imports, but an editable install does neither when
    ``PYTHONDONTWRITEBYTECODE`` is set (as on the machine of the README's
    figures), and then every build compiles feedpub anew (about 50 ms)."""
    spec = importlib.util.find_spec("feedpub")
    if spec is None or spec.origin is None:
        raise SystemExit("feedpub is not installed in this Python")
    if not compileall.compile_dir(Path(spec.origin).parent, quiet=1):
        raise SystemExit("feedpub's modules do not compile")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000", help="comma-separated item counts"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement")
    parser.add_argument("--seed", type=int, default=2020, help="corpus seed")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "feedpub-bench",
        help="folder for corpora (cached) and outputs",
    )
    parser.add_argument("--json", type=Path, help="also save the results here")
    parser.add_argument(
        "--wide-vocabulary",
        action="store_true",
        help="corpora with made-up word endings (corpus.py --wide-vocabulary)",
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.runs < 1 or not sizes or min(sizes) < 1:
        parser.error("--runs and every size must be at least 1")
    args.work.mkdir(parents=True, exist_ok=True)
    compile_feedpub()
    info = machine()
    trash = Trash(args.work)
    try:
        results = [
            run_size(args.work, n, args.runs, args.seed, trash, args.wide_vocabulary)
            for n in sizes
        ]
    finally:
        trash.empty()
    print(report(results, info, args.runs))
    if args.json is not None:
        data = {
            "machine": info,
            "runs": args.runs,
            "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
            "sizes": [
                {
                    "items": r.items,
                    "corpus_mb": r.corpus_mb,
                    "outputs": r.outputs,
                    "medians": {n: r.median(n) for n in SCENARIOS},
                    "samples": {
                        n: [asdict(s) for s in r.samples[n]] for n in SCENARIOS
                    },
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
