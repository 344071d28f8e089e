"""The command line: exact output, exit codes, and nothing lost on failure."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedpub import __version__
from feedpub.cli import cli
from tests.conftest import ROOT, copy_project, read_tree

SEED = "seeds/demografiewerkstatt-kommunen.txt"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's config and seeds as the working directory."""
    copy_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_build_then_rebuild(project: Path) -> None:
    assert run("build") == (
        0,
        "wrote 41 of 41 files to feeds (9 items, 6 topics)\n",
        "",
    )
    assert read_tree(project / "feeds") == read_tree(ROOT / "feeds")
    assert run("build") == (0, "nothing changed since the last build of feeds\n", "")
    assert run("build", "--force") == (
        0,
        "wrote 0 of 41 files to feeds (9 items, 6 topics)\n",
        "",
    )


def test_quiet_build_prints_nothing(project: Path) -> None:
    (project / "seeds" / "extra.txt").write_text("01.01.21\n\nMit\x00 Steuerzeichen.\n")
    assert run("build", "--quiet", "-o", "out") == (0, "", "")
    assert (project / "out" / "rss.xml").is_file()


def test_bad_date_is_an_error_and_nothing_is_touched(project: Path) -> None:
    assert run("build", "-q")[0] == 0
    before = read_tree(project / "feeds")
    (project / "seeds" / "bad.txt").write_text(
        "01.03.20\n\nGut.\n\n31.02.20\n\nUnmöglich.\n\n30.02.2021 Anna Alt\n\nAuch.\n"
    )
    assert run("build") == (
        1,
        "",
        "seeds/bad.txt:5: expected a real calendar date, found '31.02.20'"
        " (31.02.2020 does not exist)\n"
        "seeds/bad.txt:9: expected a real calendar date, found '30.02.2021'"
        " (30.02.2021 does not exist)\n",
    )
    assert read_tree(project / "feeds") == before


def test_undecodable_source_names_line_and_offset(project: Path) -> None:
    (project / "seeds" / "latin1.txt").write_bytes(b"01.03.20\n\nGr\xfc\xdfe.\n")
    assert run("check") == (
        1,
        "",
        "seeds/latin1.txt:3: expected UTF-8 text, found byte(s) fc at column 3"
        " (byte offset 12)\n",
    )


def test_missing_source_and_missing_config(project: Path) -> None:
    assert run("build", "nope.txt") == (1, "", "nope.txt: source not found\n")
    assert run("build", "--config", "none.toml") == (
        1,
        "",
        "none.toml: config file not found\n",
    )
    (project / "feedpub.toml").unlink()
    assert run("build") == (
        1,
        "",
        "feedpub.toml: config file not found (give --config FILE);"
        " a build needs feed.base_url\n",
    )


def test_a_source_that_cannot_be_reached_stops_the_build(project: Path) -> None:
    """A dangling link in place of a document: exit 1 naming it, nothing published."""
    assert run("build", "-q")[0] == 0
    before = read_tree(project / "feeds")
    (project / "seeds" / "a.txt").write_text("10.01.21\n\nNeu.\n")
    (project / "seeds" / "sub").mkdir()
    gone = project / "c.txt"
    gone.write_text("07.01.21\n\nWeg.\n")
    (project / "seeds" / "sub" / "c.txt").symlink_to(gone)
    gone.unlink()
    error = "seeds/sub/c.txt: a link to a file that does not exist\n"
    assert run("build") == (1, "", error)
    assert run("check") == (1, "", error)
    assert read_tree(project / "feeds") == before


def test_an_output_folder_below_the_sources_is_no_source(project: Path) -> None:
    """A robots.txt published beside the feeds, in an output folder inside the
    source folder, is neither read nor an error."""
    config = project / "feedpub.toml"
    config.write_text(
        config.read_text()
        .replace('sources = ["seeds"]', 'sources = ["."]')
        .replace('output = "feeds"', 'output = "seeds/pub"')
    )
    assert run("build", "-q") == (0, "", "")
    (project / "seeds" / "pub" / "robots.txt").write_text("User-agent: *\n")
    (project / "seeds" / "pub" / "sub").mkdir()
    (project / "seeds" / "pub" / "sub" / "old.txt").write_text("kein Datum\n")
    before = read_tree(project / "seeds" / "pub")
    assert run("build", "-q") == (0, "", "")
    assert run("check")[0] == 0
    assert run("items")[0] == 0
    assert read_tree(project / "seeds" / "pub") == before
    # Another folder with such a file is still a source, and still an error.
    (project / "seeds" / "notes").mkdir()
    (project / "seeds" / "notes" / "robots.txt").write_text("User-agent: *\n")
    code, _, err = run("build", "-q")
    assert code == 1
    assert err.startswith("seeds/notes/robots.txt:1: expected a date header"), err


def test_check_names_a_topic_that_holds_no_item(project: Path) -> None:
    """Checking the configured sources, a topic no item reaches is named at
    its table in the config; checking some sources only, it is not."""
    config = project / "feedpub.toml"
    lines = len(config.read_text().splitlines())
    config.write_text(
        config.read_text()
        + '\n[[topic]]\nname = "Tippfehler"\nkeywords = ["Ehrenammt"]\n'
    )
    code, out, err = run("check", "--strict")
    assert (code, out) == (1, "9 items, 3 warnings\n")
    assert err.splitlines()[0] == (
        f"feedpub.toml:{lines + 2}: warning: topic 'Tippfehler' holds no item:"
        " no text has its keywords (Ehrenammt), and no @tags: line names it"
    )
    code, out, _ = run("check", "seeds")
    assert (code, out) == (0, "9 items, 2 warnings\n")


def test_check_reports_warnings_with_file_and_line(project: Path) -> None:
    (project / "seeds" / "warn.txt").write_text(
        "Vorspann ohne Datum.\n\n02.03.20\n\n01.03.20\n\nText\x07 mit Klingel.\n"
    )
    code, out, err = run("check", "seeds/warn.txt")
    assert (code, out) == (0, "2 items, 5 warnings\n")
    assert err.splitlines() == [
        "seeds/warn.txt:1: warning: text before the first date header belongs to no"
        " item (1 line, up to line 1)",
        "seeds/warn.txt:3: warning: item has no text",
        "seeds/warn.txt:3: warning: matches no topic (add keywords or @tags:)",
        "seeds/warn.txt:5: warning: matches no topic (add keywords or @tags:)",
        "seeds/warn.txt:7: warning: removed 1 character(s) not allowed in XML (U+0007)",
    ]
    assert run("check", "--strict", "seeds/warn.txt")[0] == 1
    assert not (project / "feeds").exists()


def test_a_misspelt_weekday_is_a_warning_naming_file_and_line(project: Path) -> None:
    (project / "seeds" / "day.txt").write_text(
        "17.09.2020\n\nErster Förderbescheid.\n\n"
        "Mitwoch, 16.09.2020\n\nZweiter Förderbescheid.\n"
    )
    code, out, err = run("check", "seeds/day.txt")
    assert (code, out) == (0, "1 item, 1 warning\n"), err
    assert err.splitlines() == [
        "seeds/day.txt:5: warning: line starts with a date but is not an item"
        " header ('Mitwoch' is not a German weekday); kept as part of the item"
        " at line 1"
    ]
    assert run("check", "--strict", "seeds/day.txt")[0] == 1


def test_mistyped_headers_are_warnings_and_a_wrong_weekday_an_error(
    project: Path,
) -> None:
    (project / "seeds" / "near.txt").write_text(
        "Do., 17.12.2020\n\nErster Förderbescheid.\n\n"
        "3. Oktobr 2020\n\nZweiter Förderbescheid.\n\n"
        "Mittwoch, 30.09.2020\n\nDritter Förderbescheid.\n\n"
        "17.09.20\n16.09.20\n\nVierter Förderbescheid.\n"
    )
    near = "line starts with a date but is not an item header"
    warnings = [
        f"seeds/near.txt:5: warning: {near} ('Oktobr' is not a German month name);"
        " kept as part of the item at line 1",
        f"seeds/near.txt:14: warning: {near} (a header needs a blank line above"
        " it); kept as part of the item at line 13",
    ]
    code, out, err = run("check", "seeds/near.txt")
    assert (code, out) == (0, "3 items, 2 warnings\n"), err
    assert err.splitlines() == warnings
    assert run("check", "--strict", "seeds/near.txt")[0] == 1
    code, out, err = run("items", "--json", "seeds/near.txt")
    assert code == 0, err
    assert [(i["line"], i["date"]) for i in json.loads(out)] == [
        (1, "2020-12-17"),
        (9, "2020-09-30"),
        (13, "2020-09-17"),
    ]
    code, out, err = run("build")  # warnings do not stop a build
    assert (code, out) == (0, "wrote 41 of 41 files to feeds (12 items, 6 topics)\n")
    assert err.splitlines() == warnings
    before = read_tree(project / "feeds")
    (project / "seeds" / "near.txt").write_text(
        "Dienstag, 30.12.2020\n\nFörderbescheid.\n"
    )
    assert run("build") == (
        1,
        "",
        "seeds/near.txt:1: expected Mittwoch, the weekday of '30.12.2020',"
        " found 'Dienstag'\n",
    )
    assert read_tree(project / "feeds") == before


def test_items_table_json_and_topic(project: Path) -> None:
    code, out, _ = run("items", "--topic", "ehrenamt")
    assert code == 0
    assert out.splitlines() == [
        f"2020-02-24  {SEED}:21  [ehrenamt, demografie]  Am Montag, 13. Januar 2020"
        " kamen rund 150 Personen des Landkreises aus verschiedensten…",
        f"2019-12-01  {SEED}:29  [ehrenamt, demografie, foerderung]  18 ausgewählte"
        " Landkreise erhalten im Rahmen des Projektes „Hauptamt stärkt Ehrenamt“ für…",
    ]
    code, out, _ = run("items", "--json", "-t", "integration")
    data = json.loads(out)
    assert [(d["date"], d["line"], d["topics"]) for d in data] == [
        ("2020-09-16", 1, ["integration", "corona"]),
        ("2020-03-31", 13, ["integration"]),
        ("2020-01-20", 25, ["integration", "demografie", "foerderung"]),
    ]
    assert data[0]["published"] == "2020-09-16T14:00:00+02:00"
    code, out, err = run("items", "--topic", "nope")
    assert code == 2
    assert out == ""
    assert "no topic 'nope' (topics: integration, ehrenamt" in err


def test_a_config_written_in_decomposed_unicode_matches(project: Path) -> None:
    """NFD topic names and keywords, as some editors save them, match the NFC text."""
    config = project / "feedpub.toml"
    config.write_text(unicodedata.normalize("NFD", config.read_text("utf-8")), "utf-8")
    assert "Förderung" not in config.read_text("utf-8")
    (project / "seeds" / "tags.txt").write_text(
        "01.01.21\n@tags: Förderung\n\nKein Stichwort.\n", "utf-8"
    )
    assert run("check", "seeds/tags.txt") == (0, "1 item, 0 warnings\n", "")
    code, out, _ = run("items", "--topic", "foerderung")
    assert code == 0
    assert [line[:12] for line in out.splitlines()] == [
        "2020-01-20  ",  # "*förder" in the text
        "2019-12-01  ",
        "2021-01-01  ",  # "@tags: Förderung"
    ]


def test_version_and_help() -> None:
    assert run("--version") == (0, f"feedpub, version {__version__}\n", "")
    for command in ("build", "check", "items"):
        code, out, _ = run(command, "--help")
        assert code == 0
        assert "Example:" in out
        assert f"feedpub {command}" in out


def test_real_process_as_cron_runs_it(project: Path) -> None:
    """A real process: silent success, then a one-line error and exit 1, no traceback."""
    command = [sys.executable, "-m", "feedpub", "build", "--quiet"]
    done = subprocess.run(
        command, cwd=project, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    (project / "feedpub.toml").write_text("[feed\n")
    done = subprocess.run(
        command, cwd=project, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("feedpub.toml: invalid TOML: ")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
