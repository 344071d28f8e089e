"""Baseline (b): start Python, import feedpub's dependencies, hash the sources.

    python benchmarks/baseline_startup.py FILE...

The floor for a rebuild that finds nothing changed: the interpreter starts,
the libraries feedpub uses are imported, and every source file is read and
hashed with SHA-256 to learn that nothing changed.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import click  # noqa: F401
import dateutil.parser  # noqa: F401
import jinja2  # noqa: F401
import lxml.etree  # noqa: F401
from feedgen.feed import FeedGenerator  # noqa: F401


def main(paths: list[str]) -> None:
    for name in paths:
        path = Path(name)
        files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
        for file in files:
            hashlib.sha256(file.read_bytes()).hexdigest()


if __name__ == "__main__":
    main(sys.argv[1:])
