"""The README documents what exists: the two commands, commands, keys, fields."""

from __future__ import annotations

import dataclasses
import re

import click

from feedpub.cli import cli
from feedpub.config import Config
from feedpub.parse import FIELD_KEYS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def test_first_lines_give_the_two_commands() -> None:
    head = "\n".join(README.splitlines()[:8])
    assert "pip install -q -e . && .venv/bin/feedpub build`" in head
    assert "`bash .ci/run`" in head
    assert (ROOT / ".ci" / "run").is_file()


def test_every_command_is_documented_and_has_an_example() -> None:
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        assert f"feedpub {name}" in README, name
        assert "Example:" in (command.help or ""), name


def test_every_config_key_is_documented() -> None:
    skip = {"path", "timezone", "sources", "output", "topics"}
    keys = [f"feed.{f.name}" for f in dataclasses.fields(Config) if f.name not in skip]
    keys += ["feed.timezone", "sources", "output"]
    keys += [
        f"topic.{k}" for k in ("name", "slug", "keywords", "exclude", "description")
    ]
    for key in keys:
        assert re.search(rf"\| `{re.escape(key)}` \|", README), key


def test_every_field_is_documented() -> None:
    for key in FIELD_KEYS:
        assert f"`@{key}:`" in README, key
