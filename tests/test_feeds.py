"""Every feed built from the seed and from the tricky documents is valid and
complete, and real clients (feedparser, reader) accept it with all items."""

from __future__ import annotations

import datetime as dt
import html
import json
import locale
import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest

from feedpub.build import build
from feedpub.config import Config
from feedpub.dates import match_date
from feedpub.publish import read_sources, write_outputs
from feedpub.site import compile_site
from tests.conftest import DATA, ROOT, load_config
from tests.feedcheck import check_atom, check_feedparser, check_reader, check_rss

TRICKY = sorted((DATA / "tricky").glob("*.txt"))
CASES = [
    pytest.param(ROOT / "feedpub.toml", [ROOT / "seeds"], id="seed"),
    pytest.param(DATA / "tricky.toml", [DATA / "tricky"], id="tricky-all"),
    pytest.param(DATA / "archive.toml", [DATA / "tricky"], id="archive"),
    *(pytest.param(DATA / "tricky.toml", [p], id=f"tricky-{p.stem}") for p in TRICKY),
]


def _build(config: Config, sources: list[Path], out: Path) -> dict[str, int]:
    """Build into ``out``; return the expected item count per feed file."""
    result = compile_site(read_sources(sources), config)
    write_outputs(result.outputs, out)
    total = len(result.items)
    counts = {"rss.xml": min(total, config.limit), "atom.xml": min(total, config.limit)}
    for topic in config.topics:
        n = min(config.limit, sum(topic.slug in i.topics for i in result.items))
        counts[f"topics/{topic.slug}/rss.xml"] = n
        counts[f"topics/{topic.slug}/atom.xml"] = n
    assert set(counts) <= set(result.outputs)
    return counts


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_every_feed_is_valid_and_complete(
    config_path: Path, sources: list[Path], tmp_path: Path
) -> None:
    config = load_config(config_path)
    counts = _build(config, sources, tmp_path)
    for name, count in counts.items():
        url = config.base_url + name
        if name.endswith("rss.xml"):
            values = check_rss(tmp_path / name, url)
        else:
            values = check_atom(tmp_path / name, url, config.language)
        assert len(values) == count, name
        check_feedparser(tmp_path / name, count)
    check_reader(tmp_path, sorted(counts), counts)


@pytest.mark.parametrize(("config_path", "sources"), CASES)
def test_rss_and_atom_carry_the_same_items(
    config_path: Path, sources: list[Path], tmp_path: Path
) -> None:
    config = load_config(config_path)
    counts = _build(config, sources, tmp_path)
    for name in counts:
        if not name.endswith("rss.xml"):
            continue
        rss = check_rss(tmp_path / name, config.base_url + name)
        atom_name = name.replace("rss.xml", "atom.xml")
        atom = check_atom(tmp_path / atom_name, config.base_url + atom_name, "de")
        assert [(i["id"], i["title"], i["link"], i["published"]) for i in rss] == [
            (e["id"], e["title"], e["link"], e["published"]) for e in atom
        ]
        assert [i["categories"] for i in rss] == [e["categories"] for e in atom]
        assert [i["author"] for i in rss] == [e["author"] for e in atom]


def test_every_item_link_resolves_to_a_written_anchor(tmp_path: Path) -> None:
    for config_path, sources in (
        (ROOT / "feedpub.toml", [ROOT / "seeds"]),
        (DATA / "tricky.toml", [DATA / "tricky"]),
    ):
        config = load_config(config_path)
        out = tmp_path / config_path.stem
        result = compile_site(read_sources(sources), config)
        write_outputs(result.outputs, out)
        for item in result.items:
            if not item.link.startswith(config.base_url):
                assert item.link.startswith("https://www.example.org/"), item.link
                continue
            page, _, anchor = item.link.removeprefix(config.base_url).partition("#")
            text = (out / page).read_text("utf-8")
            assert f'id="{anchor}"' in text, item.link


def test_markup_in_source_is_text_in_every_output(tricky_config: Config) -> None:
    result = compile_site(read_sources([DATA / "tricky" / "fields.txt"]), tricky_config)
    sentence = 'Markup bleibt Text: <script>alert("x")</script> & "Anführungszeichen"'
    for name, data in result.outputs.items():
        assert b"<script>" not in data, name
    rss = check_rss_bytes(result.outputs["rss.xml"])
    markup = next(i for i in rss if i["title"].startswith("Markup"))
    # description holds HTML: the source's "<" is escaped once inside it
    assert html.escape(sentence, quote=False) in str(markup["description"])
    assert markup["title"].startswith(sentence)


def check_rss_bytes(data: bytes) -> list[dict[str, object]]:
    from lxml import etree

    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    return [
        {"title": i.findtext("title"), "description": i.findtext("description")}
        for i in channel.findall("item")
    ]


def test_dates_are_english_whatever_the_locale(project_config: Config) -> None:
    """RSS wants English names; a German locale must not leak "Mi, 16 Sep"."""
    old = locale.setlocale(locale.LC_ALL)
    # .ci/run generates de_DE.UTF-8; without it this test cannot show anything.
    locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
    try:
        assert dt.date(2020, 9, 16).strftime("%a %b") == "Mi Sep"
        data = compile_site(read_sources([ROOT / "seeds"]), project_config).outputs
    finally:
        locale.setlocale(locale.LC_ALL, old)
    assert b"<pubDate>Wed, 16 Sep 2020 14:00:00 +0200</pubDate>" in data["rss.xml"]
    assert b"<pubDate>Sun, 01 Dec 2019 13:00:00 +0100</pubDate>" in data["rss.xml"]


def test_every_link_in_the_pages_resolves(tmp_path: Path) -> None:
    from lxml import html as lhtml

    for config_path, sources in (
        (ROOT / "feedpub.toml", [ROOT / "seeds"]),
        (DATA / "tricky.toml", [DATA / "tricky"]),
    ):
        config = load_config(config_path)
        out = tmp_path / config_path.stem
        outputs = compile_site(read_sources(sources), config).outputs
        write_outputs(outputs, out)
        pages = [name for name in outputs if name.endswith(".html")]
        assert pages
        for name in pages:
            page = lhtml.fromstring(outputs[name])
            for element, _, url, _ in page.iterlinks():
                if url.startswith(config.base_url):
                    url = url.removeprefix(config.base_url)
                    target_name = url
                elif url.startswith("https://www.example.org/"):
                    continue  # an explicit @link: to the publisher's own site
                elif url.startswith("#"):
                    target_name = name + url  # an anchor in the same page
                else:
                    assert "://" not in url, (name, url)
                    target_name = (Path(name).parent / url).as_posix()
                path, _, anchor = target_name.partition("#")
                target = (out / path).resolve()
                assert target.is_file(), (name, element.tag, url)
                if anchor:
                    assert f'id="{anchor}"' in target.read_text("utf-8"), (name, url)


OLD_AND_FAR = [
    pytest.param(
        # Local mean time, +00:53:28, before 1 April 1893: shown at +00:53.
        "Europe/Berlin",
        "01.04.1893\n\nDie Uhren gehen nach MEZ.\n\n"
        "03.05.1885\n\nErste Sitzung.\n\n03.05.1885\n\nGründung des Vereins.\n",
        [
            "Sat, 01 Apr 1893 13:00:00 +0100",
            "Sun, 03 May 1885 12:53:00 +0053",
            "Sun, 03 May 1885 12:52:00 +0053",
        ],
        id="berlin-1885",
    ),
    pytest.param(
        "Etc/GMT+12",  # UTC-12: local noon, every item of the day on it
        "06.05.21\n\nTags darauf.\n\n05.05.21\n\nZweite.\n\n05.05.21\n\nErste.\n",
        [
            "Thu, 06 May 2021 12:00:00 -1200",
            "Wed, 05 May 2021 12:00:00 -1200",
            "Wed, 05 May 2021 11:59:00 -1200",
        ],
        id="utc-minus-12",
    ),
    pytest.param(
        "America/Sitka",  # local mean time +14:58:47 before 1867: local noon
        "05.07.1860\n\nNoch einer.\n\n04.07.1860\n\nZweite.\n\n04.07.1860\n\nErste.\n",
        [
            "Thu, 05 Jul 1860 12:00:00 +1459",
            "Wed, 04 Jul 1860 12:00:00 +1459",
            "Wed, 04 Jul 1860 11:59:00 +1459",
        ],
        id="sitka-1860",
    ),
]


@pytest.mark.parametrize(("zone", "text", "dates"), OLD_AND_FAR)
def test_old_dates_and_far_zones_publish_each_item_on_its_day(
    zone: str, text: str, dates: list[str], tmp_path: Path
) -> None:
    """RSS, Atom (feeds and archive documents), JSON Feed and the pages agree
    on each item's moment, and show it on its source date."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "chronik.txt").write_text(text, encoding="utf-8")
    (tmp_path / "feedpub.toml").write_text(
        'sources = ["src"]\noutput = "out"\n[feed]\nbase_url = "https://x.org/f/"\n'
        f'timezone = "{zone}"\nlimit = 2\narchive_size = 1\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path / "feedpub.toml")
    build(config)
    out = tmp_path / "out"
    moments = [parsedate_to_datetime(d) for d in dates]
    days = [m.strftime("%d.%m.%Y") for m in moments]
    headers = [match_date(line) for line in text.split("\n\n")[::2]]
    assert days == [h[0].to_date().strftime("%d.%m.%Y") for h in headers if h]

    rss = check_rss(out / "rss.xml", "https://x.org/f/rss.xml")
    ids = [str(i["id"]) for i in rss]
    archived = check_rss(
        out / "archive" / "rss-0001.xml", "https://x.org/f/archive/rss-0001.xml"
    )
    ids += [str(i["id"]) for i in archived]
    assert len(ids) == len(dates)
    expected = dict(zip(ids, moments, strict=True))
    rss_files = (out / "rss.xml", out / "archive" / "rss-0001.xml")
    raw = b"".join(path.read_bytes() for path in rss_files).decode()
    assert re.findall(r"<item>.*?<pubDate>(.*?)</pubDate>", raw, re.DOTALL) == dates

    documents = ["rss.xml", "atom.xml", "archive/rss-0001.xml", "archive/atom-0001.xml"]
    for name in documents:
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        assert parsed.entries, name
        for entry in parsed.entries:
            moment = expected[entry.id]
            assert entry.published_parsed[:6] == moment.utctimetuple()[:6], name
    atom = check_atom(out / "atom.xml", "https://x.org/f/atom.xml", "de")
    assert [e["published"] for e in atom] == moments[:2]
    feed = json.loads((out / "feed.json").read_text("utf-8"))
    assert [
        dt.datetime.fromisoformat(i["date_published"]) for i in feed["items"]
    ] == moments[:2]
    shown = set()
    for page in sorted((out / "archive").glob("*.html")):
        shown |= set(
            re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', page.read_text())
        )
    assert {(dt.datetime.fromisoformat(s), day) for s, day in shown} == set(
        zip(moments, days, strict=True)
    )
    assert {s[:10] for s, _ in shown} == {m.isoformat()[:10] for m in moments}


def test_an_emit_may_give_the_sha256_of_what_it_writes(tmp_path: Path) -> None:
    # The state records each file's sha256: the core's own, unless emit
    # returns what gives it; a library caller's emit may return anything.
    import hashlib

    config = load_config(ROOT / "feedpub.toml")
    documents = read_sources([ROOT / "seeds"])
    written: dict[str, bytes] = {}

    def writes(path: str, data: bytes | Iterator[bytes], _: object) -> int:
        written[path] = data if isinstance(data, bytes) else b"".join(data)
        return len(written[path])  # as Path.write_bytes returns

    def answers(path: str, data: object, _: object) -> object:
        return (lambda: f"given {path}") if isinstance(data, bytes) else None

    kept = compile_site(list(documents), config, emit=writes).state.outputs
    given = compile_site(list(documents), config, emit=answers).state.outputs
    assert kept
    assert len(kept) == len(given) == len(written) - 1  # all but the state
    for record in kept:
        assert record.sha256 == hashlib.sha256(written[record.path]).hexdigest()
    assert [r.sha256 for r in given] == [f"given {r.path}" for r in given]
