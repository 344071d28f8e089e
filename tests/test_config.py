"""Config loading: defaults, every key, and errors that list every problem."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from feedpub.config import Config, load_config
from feedpub.errors import ConfigError

MINIMAL = '[feed]\nbase_url = "https://example.org/feeds"\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedpub.toml"
    path.write_text(text, "utf-8")
    return path


def test_minimal_config_and_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))
    assert config.base_url == "https://example.org/feeds/"
    assert config.id_authority == "example.org"
    assert (config.limit, config.language, str(config.timezone)) == (
        50,
        "de",
        "Europe/Berlin",
    )
    assert config.sources == (tmp_path / "seeds",)
    assert config.output == tmp_path / "feeds"
    assert config.topics == ()


def test_no_config_file_gives_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None) == Config()


def test_topics_and_slugs(tmp_path: Path) -> None:
    config = load_config(
        _write(
            tmp_path,
            MINIMAL
            + '[[topic]]\nname = "Förderung"\nkeywords = ["*förder"]\n'
            + '[[topic]]\nname = "Ältere Menschen & Straße"\n'
            + '[[topic]]\nname = "Jugend"\nslug = "jugend-2"\nexclude = ["Jugendstil"]\n',
        )
    )
    assert [(t.name, t.slug, t.keywords, t.exclude) for t in config.topics] == [
        ("Förderung", "foerderung", ("*förder",), ()),
        ("Ältere Menschen & Straße", "aeltere-menschen-strasse", (), ()),
        ("Jugend", "jugend-2", (), ("Jugendstil",)),
    ]


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_topic_names_and_rules_are_put_in_nfc_as_the_text_is(tmp_path: Path) -> None:
    """Typed decomposed (o and U+0308), they would never match the text's ö."""
    config = load_config(
        _write(
            tmp_path,
            MINIMAL
            + f'[[topic]]\nname = "{_nfd("Förderung")}"\n'
            + f'keywords = ["{_nfd("*förder")}", "{_nfd("Zuschüsse")}"]\n'
            + f'exclude = ["{_nfd("Rückforderung")}"]\n'
            + f'description = "{_nfd("Förderung")}"\n',
        )
    )
    (topic,) = config.topics
    assert (topic.name, topic.slug, topic.keywords, topic.exclude) == (
        "Förderung",
        "foerderung",
        ("*förder", "Zuschüsse"),
        ("Rückforderung",),
    )
    assert topic.description == _nfd("Förderung")  # shown, never matched: as given


def test_a_name_typed_twice_in_two_forms_is_used_twice(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        MINIMAL
        + '[[topic]]\nname = "Förderung"\nslug = "a"\n'
        + f'[[topic]]\nname = "{_nfd("förderung")}"\nslug = "b"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines()[1:] == [
        f"  - topic {_nfd('förderung')!r}: name is already used by another topic"
    ]


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'colour = "blue"\n[feed]\nbase_url = "ftp://x"\ntimezone = "Mars/Base"\n'
        'limit = 0\nid_authority = "a b"\n'
        '[[topic]]\nname = "Förderung"\n'
        '[[topic]]\nname = "Foerderung"\n'
        '[[topic]]\nname = "Weg"\nslug = "../../etc"\n'
        '[[topic]]\nname = "!!!"\nwords = ["x"]\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines() == [
        f"{path}: invalid config:",
        "  - colour: unknown key",
        "  - feed.base_url: expected an absolute http(s) URL, found 'ftp://x'",
        "  - feed.timezone: expected an IANA zone such as Europe/Berlin, found 'Mars/Base'",
        "  - feed.id_authority: expected a domain name or e-mail address you own,"
        " found 'a b'",
        "  - feed.limit: expected a whole number >= 1, found 0",
        "  - topic 'Foerderung': slug 'foerderung' is already used by topic 'Förderung'",
        "  - topic 'Weg'.slug: expected lower-case ASCII letters, digits and single"
        " hyphens (a safe file name), found '../../etc'",
        "  - topic '!!!': expected a name that gives a slug, found '!!!'",
        "  - topic '!!!'.words: unknown key",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[feed\n", "invalid TOML: "),
        ("[feed]\n", "feed.base_url: expected an absolute http(s) URL, found ''"),
        (
            '[feed]\nbase_url = "https://x.org/"\n[[topic]]\nname = "A"\n[[topic]]\nname = "a"\n',
            "topic 'a': name is already used by another topic",
        ),
        (
            '[feed]\nbase_url = "https://x.org/"\n[[topic]]\nname = "A"\n'
            'keywords = ["Ehrenamt", "*"]\n',
            "topic 'A'.keywords: expected a word, found '*' (a rule without letters"
            " or digits matches nothing)",
        ),
        (
            '[feed]\nbase_url = "https://x.org/"\n[[topic]]\nname = "A"\n'
            'keywords = ["Ehrenamt"]\nexclude = [" - "]\n',
            "topic 'A'.exclude: expected a word, found '-'",
        ),
    ],
)
def test_invalid_configs_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_missing_and_undecodable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"title = '\xff'\n")
    with pytest.raises(ConfigError, match="expected UTF-8 TOML"):
        load_config(bad)


def test_project_config_defines_the_required_topics(project_config: Config) -> None:
    names = {t.name for t in project_config.topics}
    assert {
        "Integration",
        "Ehrenamt",
        "Demografie",
        "Jugend",
        "Corona",
        "Förderung",
    } <= names


@pytest.mark.parametrize("url", ["https://x.org/feeds?a=1", "https://x.org/feeds#top"])
def test_base_url_must_be_a_plain_folder_url(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, f'[feed]\nbase_url = "{url}"\n'))
    assert str(caught.value).splitlines()[1:] == [
        "  - feed.base_url: expected a folder URL without ?query or #fragment,"
        f" found '{url}'"
    ]


def test_a_bad_base_url_gives_one_problem_not_three(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, '[feed]\nbase_url = "feeds/"\n'))
    assert str(caught.value).splitlines()[1:] == [
        "  - feed.base_url: expected an absolute http(s) URL, found 'feeds/'"
    ]


def test_base_url_is_made_a_plain_uri(tmp_path: Path) -> None:
    config = load_config(
        _write(tmp_path, '[feed]\nbase_url = "HTTPS://Bücher.Example/Neuigkeiten"\n')
    )
    assert config.base_url == "https://xn--bcher-kva.example/Neuigkeiten/"
    assert config.id_authority == "xn--bcher-kva.example"


def test_web_options_and_their_defaults(tmp_path: Path) -> None:
    assert (Config().stylesheet, Config().embed_limit) == (True, 10)
    config = load_config(
        _write(tmp_path, MINIMAL + "stylesheet = false\nembed_limit = 3\n")
    )
    assert (config.stylesheet, config.embed_limit) == (False, 3)


def test_web_options_are_checked(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + 'stylesheet = "yes"\nembed_limit = 0\n')
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value) == (
        f"{path}: invalid config:\n"
        "  - feed.stylesheet: expected true or false, found 'yes'\n"
        "  - feed.embed_limit: expected a whole number >= 1, found 0"
    )


@pytest.mark.parametrize("topic", ['name = "All"', 'name = "Alles"\nslug = "all"'])
def test_the_main_feeds_name_is_no_topic_slug(tmp_path: Path, topic: str) -> None:
    """embed/all.html is the main feed's page: a topic "all" would overwrite it."""
    path = _write(tmp_path, MINIMAL + f"[[topic]]\n{topic}\n")
    with pytest.raises(ConfigError, match=r"slug 'all' names the main feed's files"):
        load_config(path)


def test_archive_size_defaults_to_50_or_a_smaller_limit(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, MINIMAL)).archive_size == 50
    small = load_config(_write(tmp_path, MINIMAL + "limit = 20\n"))
    assert (small.limit, small.archive_size) == (20, 20)
    config = load_config(_write(tmp_path, MINIMAL + "limit = 20\narchive_size = 7\n"))
    assert (config.limit, config.archive_size) == (20, 7)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (
            "archive_size = 51\n",
            "feed.archive_size: expected at most feed.limit (50), found 51",
        ),
        (
            "limit = 10\narchive_size = 11\n",
            "feed.archive_size: expected at most feed.limit (10), found 11",
        ),
        (
            "archive_size = 0\n",
            "feed.archive_size: expected a whole number >= 1, found 0",
        ),
    ],
)
def test_archive_size_fits_in_the_feed(
    tmp_path: Path, lines: str, problem: str
) -> None:
    """Items of the newest, incomplete archive page must fit in the feed."""
    path = _write(tmp_path, MINIMAL + lines)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines()[1:] == [f"  - {problem}"]


def test_history_is_complete_or_recent_and_recent_has_no_archives(
    tmp_path: Path,
) -> None:
    complete = load_config(_write(tmp_path, MINIMAL))
    assert (complete.history, complete.archives) == ("complete", True)
    recent = load_config(_write(tmp_path, MINIMAL + 'history = "recent"\n'))
    assert (recent.history, recent.archives) == ("recent", False)
    both = 'history = "recent"\narchives = false\n'
    assert load_config(_write(tmp_path, MINIMAL + both)).archives is False


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (
            'history = "all"\n',
            'feed.history: expected "complete" or "recent", found \'all\'',
        ),
        (
            'history = "recent"\narchives = true\n',
            'feed.archives: feed.history = "recent" publishes no archive'
            " documents; remove feed.archives = true",
        ),
    ],
)
def test_history_is_checked(tmp_path: Path, lines: str, problem: str) -> None:
    path = _write(tmp_path, MINIMAL + lines)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).splitlines()[1:] == [f"  - {problem}"]
