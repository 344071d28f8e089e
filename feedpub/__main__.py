"""``python -m feedpub``."""

from feedpub.cli import cli

cli()
