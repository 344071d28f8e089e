"""A large build reads its items on two cores (``feedpub/spread.py``).

The helper process reads some runs of blocks while the build reads the
others. Whoever reads a run, the build must give the same items, warnings,
errors and published bytes as one that reads alone, and whatever goes wrong
with the helper, the build reads its runs itself. The thresholds that keep
small builds in one process are lowered here, so that a corpus of a few
hundred items is read in many runs by both processes.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest

import feedpub.site as site
import feedpub.spread as spread
from feedpub.build import BuildOptions
from feedpub.build import build as run_build
from feedpub.config import Config, load_config
from feedpub.errors import SourceError
from feedpub.site import Job, ReadRun, compile_site
from feedpub.spread import Spread
from feedpub.tagging import Tagger
from tests.conftest import load_benchmark, read_tree

# Where the read runs are logged, by the process that read them; and the
# process that builds. Both are copied into the helper when it is forked.
LOG: list[Path] = []
BUILDER: list[int] = []


def logged_read_run(run: list[Job], **kwargs: object) -> ReadRun:
    """``site.read_run``, logging the reading process's id (module-level:
    the helper is handed it pickled, by name)."""
    with LOG[0].open("a") as log:
        log.write(f"{os.getpid()}\n")
    return ORIGINAL(run, **kwargs)  # type: ignore[arg-type]


def helper_dies(run: list[Job], **kwargs: object) -> ReadRun:
    """``site.read_run``, but the helper process ends without a word."""
    if os.getpid() != BUILDER[0]:
        os._exit(3)
    return ORIGINAL(run, **kwargs)  # type: ignore[arg-type]


def helper_hangs(run: list[Job], **kwargs: object) -> ReadRun:
    """``site.read_run``, but the helper process never answers."""
    if os.getpid() != BUILDER[0]:
        time.sleep(600)
    return ORIGINAL(run, **kwargs)  # type: ignore[arg-type]


def helper_fails(run: list[Job], **kwargs: object) -> ReadRun:
    """``site.read_run``, but it fails in the helper process."""
    if os.getpid() != BUILDER[0]:
        raise RuntimeError("a run that fails in the helper")
    return ORIGINAL(run, **kwargs)  # type: ignore[arg-type]


ORIGINAL = site.read_run


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A generated corpus of 400 items, with a line the build warns about
    in several places (a character XML cannot carry)."""
    config_path: Path = load_benchmark("corpus").write_corpus(tmp_path / "corpus", 400)
    source = config_path.parent / "sources" / "news.txt"
    parts = source.read_text().split(" die ")
    assert len(parts) > 400
    source.write_text(
        "".join(
            part + (" die\x0b " if n % 100 == 99 else " die ")
            for n, part in enumerate(parts[:-1])
        )
        + parts[-1]
    )
    return config_path


@pytest.fixture
def many_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Runs of 7 blocks and a helper for any build; the log of the readers."""
    monkeypatch.setattr(site, "RUN", 7)
    monkeypatch.setattr(spread, "LEAST_BYTES", 0)
    monkeypatch.setattr(spread, "LEAST_RUNS", 2)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    log = tmp_path / "readers.log"
    log.touch()
    monkeypatch.setattr(LOG, "[:]", [log], raising=False) if False else None
    LOG[:] = [log]
    BUILDER[:] = [os.getpid()]
    return log


def _published(config: Config, out: Path, jobs: int) -> dict[str, bytes]:
    run_build(config, output=out, options=BuildOptions(jobs=jobs))
    return read_tree(out)


def test_two_processes_publish_what_one_does(
    corpus: Path, many_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(corpus)
    alone = _published(config, tmp_path / "alone", jobs=1)
    assert many_runs.read_text().split() == []  # site.read_run itself: no log
    monkeypatch.setattr(site, "read_run", logged_read_run)
    shared = _published(config, tmp_path / "shared", jobs=2)
    readers = many_runs.read_text().split()
    assert len(readers) == -(-400 // 7)  # every run read once
    assert set(readers) - {str(os.getpid())}, "the helper read no run"
    assert str(os.getpid()) in readers, "the build read no run itself"
    assert shared == alone


def test_items_warnings_and_errors_come_in_source_order(
    corpus: Path, many_runs: Path
) -> None:
    config = load_config(corpus)
    documents = [("news.txt", (corpus.parent / "sources" / "news.txt").read_bytes())]

    def compiled(spread: Spread | None) -> site.BuildResult:
        return compile_site(list(documents), config, salt="s", spread=spread)

    alone = compiled(None)
    assert len(alone.warnings) >= 3  # in different runs
    with Spread(0) as two:
        shared = compiled(two)
    assert shared.items == alone.items
    assert shared.warnings == alone.warnings
    assert shared.outputs == alone.outputs
    # An item whose header gives an impossible date, in two places.
    text = documents[0][1].decode()
    broken = text.replace("\n\n", "\n\n31.02.2020\n\nKaputt.\n\n", 1)
    broken = (
        broken[: len(broken) // 2]
        + "\n31.02.2019\n\nAuch kaputt.\n"
        + broken[len(broken) // 2 :]
    )
    errors = []
    for make in (lambda: None, lambda: Spread(0)):
        helper = make()
        with pytest.raises(SourceError) as caught:
            compile_site(
                [("news.txt", broken.encode())], config, salt="s", spread=helper
            )
        if helper is not None:
            helper.close()
        errors.append(caught.value.diagnostics)
    assert errors[0] == errors[1]


@pytest.mark.parametrize("failure", [helper_dies, helper_fails, helper_hangs])
def test_runs_of_a_helper_that_fails_are_read_by_the_build(
    corpus: Path,
    many_runs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: object,
) -> None:
    config = load_config(corpus)
    alone = _published(config, tmp_path / "alone", jobs=1)
    monkeypatch.setattr(site, "read_run", failure)
    monkeypatch.setattr(spread, "_PATIENCE", 1.0)
    started = time.monotonic()
    assert _published(config, tmp_path / "shared", jobs=2) == alone
    assert time.monotonic() - started < 60


def test_a_run_that_fails_everywhere_fails_the_build_with_its_error(
    corpus: Path, many_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(run: list[Job], **kwargs: object) -> ReadRun:
        raise RuntimeError("a run that fails")

    monkeypatch.setattr(site, "read_run", fails)  # local: cannot be pickled
    with pytest.raises(RuntimeError, match="a run that fails"):
        _published(load_config(corpus), tmp_path / "out", jobs=2)
    assert not (tmp_path / "out" / "feedpub-state.jsonl").exists()


def test_items_read_elsewhere_share_the_tuples_of_their_topics(
    project_config: Config,
) -> None:
    tagger = Tagger(project_config.topics)
    result = compile_site(
        [
            (
                "news.txt",
                b"16.09.20\n\nIntegration und Ehrenamt.\n\n"
                b"15.09.20\n@tags: Integration, Unbekannt\n\nEhrenamt.\n",
            )
        ],
        project_config,
    )
    tagged = [
        tagger.tag(site.evolve(i, topics=(), categories=()), []) for i in result.items
    ]
    copies = pickle.loads(pickle.dumps(tagged))  # as from the helper
    assert copies[0].topics is not tagged[0].topics
    shared = tagger.shared(copies)
    assert shared == tagged
    for mine, theirs in zip(tagged, shared, strict=True):
        assert theirs.topics is mine.topics
        known = len(mine.topics)
        assert all(
            a is b
            for a, b in zip(theirs.categories[:known], mine.categories, strict=False)
        )
    assert shared[1].topics == ("integration", "ehrenamt")
    assert [c.term for c in shared[1].categories][-1] == "Unbekannt"


def test_small_sources_fork_no_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []
    monkeypatch.setattr(spread, "_start", lambda: started.append(1))
    Spread(spread.LEAST_BYTES - 1).close()
    assert started == []
    Spread(spread.LEAST_BYTES).close()
    assert started == [1]
