"""The one exception tree that feedpub raises on purpose."""

from __future__ import annotations

from collections.abc import Iterable

from feedpub.basics import Diagnostic


class FeedpubError(Exception):
    """Base class for every error feedpub raises on purpose."""


class ConfigError(FeedpubError):
    """The configuration file is missing, unreadable or invalid."""


class SourceError(FeedpubError):
    """One or more source documents cannot be read or parsed.

    Carries every problem found, each with its ``file:line``.
    """

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class RenderError(FeedpubError):
    """A feed or page could not be rendered from the planned data."""


class PublishError(FeedpubError):
    """Writing to the output folder failed; nothing half-written was left."""


class StateError(FeedpubError):
    """The state file that carries ids between builds is not valid."""


class BusyError(FeedpubError):
    """Another build holds the output folder's lock."""


class ValidationError(FeedpubError):
    """A rendered file failed the checks every output must pass to be published."""


class ServeError(FeedpubError):
    """The preview server cannot start."""
