"""The benchmark corpus generator is deterministic and feedpub reads what it means."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from feedpub.model import Item
from feedpub.publish import read_sources
from feedpub.site import compile_items
from tests.conftest import load_benchmark, load_config


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    corpus = load_benchmark("corpus")
    corpus.write_corpus(tmp_path / "a", 1000)
    corpus.write_corpus(tmp_path / "b", 1000)
    first = _digests(tmp_path / "a")
    assert first == _digests(tmp_path / "b")
    assert sorted(first) == ["feedpub.toml", "sources/news.txt"]
    corpus.write_corpus(tmp_path / "c", 1000, seed=7)
    assert _digests(tmp_path / "c") != first


def test_feedpub_reads_every_item_with_one_to_three_topics(tmp_path: Path) -> None:
    corpus = load_benchmark("corpus")
    config = load_config(corpus.write_corpus(tmp_path, 1000))
    assert len(config.topics) == 20
    items, warnings = compile_items(read_sources(config.sources), config)
    assert warnings == []
    assert len(items) == 1000
    assert all(1 <= len(item.topics) <= 3 for item in items)
    assert {slug for item in items for slug in item.topics} == {
        topic.slug for topic in config.topics
    }
    headers = [
        (tmp_path / "sources" / "news.txt").read_text("utf-8").split("\n")[i.line - 1]
        for i in items
    ]
    for form in (
        r"\d\d\.\d\d\.\d\d",
        r"\d\d\.\d\d\.\d{4}",
        r"\d{1,2}\. [A-Z]",
        r"\d{4}-",
    ):
        assert any(re.match(form, h) for h in headers), form
    days = [item.day for item in items]
    assert days == sorted(days, reverse=True), "newest first"
    assert len(set(days)) < len(days), "some days have several items"
    assert any(item.author for item in items)
    assert any(len(item.paragraphs) > 1 for item in items)
    for item in items:
        words = sum(len(p.split()) for p in item.paragraphs)
        assert 40 <= words <= 120, item.line


def test_a_wide_vocabulary_changes_words_not_items(tmp_path: Path) -> None:
    # corpus.py --wide-vocabulary: the same items, topics and dates, with
    # made-up endings on every fourth long word.
    corpus = load_benchmark("corpus")
    config = load_config(corpus.write_corpus(tmp_path / "plain", 1000))
    wide_config = load_config(corpus.write_corpus(tmp_path / "wide", 1000, wide=True))
    plain, _ = compile_items(read_sources(config.sources), config)
    wide, warnings = compile_items(read_sources(wide_config.sources), wide_config)
    assert warnings == []
    # (longer words wrap into more lines: line numbers move)
    assert [(i.id, i.published, i.topics) for i in wide] == [
        (i.id, i.published, i.topics) for i in plain
    ]

    def words(items: list[Item]) -> set[str]:
        return {w for i in items for p in i.paragraphs for w in p.split()}

    assert len(words(wide)) > 10 * len(words(plain))
    for before, after in zip(plain, wide, strict=True):
        # each word is the same, or the same with an ending; nothing else moves
        a, b = (
            re.findall(r"[^\W\d_]+|\d+|\S", " ".join(i.paragraphs))
            for i in (before, after)
        )
        assert len(a) == len(b)
        assert all(y.startswith(x) for x, y in zip(a, b, strict=True)), (a, b)
