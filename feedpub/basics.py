"""The data the shell needs before any source is parsed: problems and topics.

Kept apart from ``model.py`` (which re-exports both) so that a cron run that
finds nothing changed loads only these two classes (see ``build.py``).
"""

from __future__ import annotations

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
    """A topic feed and the rules that choose its items."""

    name: str
    slug: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    description: str = ""
