"""The data the shell needs before any source is parsed: problems and topics.

Kept apart from ``model.py`` (which re-exports both) so that a cron run that
finds nothing changed loads only these two classes (see ``build.py``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """A problem found in a source document, located at ``source:line``."""

    source: str
    line: int
    message: str
    severity: Severity = "warning"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        label = "" if self.severity == "error" else "warning: "
        return f"{where}: {label}{self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A topic feed and the rules that choose its items.

    The name, keywords and exclude rules are put in Unicode NFC, as source
    text is (``normalise.clean_text``): typed in decomposed form (``o`` and a
    combining diaeresis, as some editors and systems write ``ö``), a keyword
    would never match the text, nor the name a ``@tags:`` line that spells it.
    Done here, so a topic made in code is matched as one read from
    ``feedpub.toml``.
    """

    name: str
    slug: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        # A frozen dataclass sets its own fields this way in __init__ too.
        object.__setattr__(self, "name", _nfc(self.name))
        object.__setattr__(self, "keywords", tuple(map(_nfc, self.keywords)))
        object.__setattr__(self, "exclude", tuple(map(_nfc, self.exclude)))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
