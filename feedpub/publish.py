"""The disk: read source documents, write outputs atomically. Nothing else does I/O."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from feedpub.errors import PublishError, SourceError
from feedpub.model import Diagnostic


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishReport:
    """Which output files a build rewrote and which it left untouched."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]


def read_sources(paths: Iterable[Path]) -> list[tuple[str, bytes]]:
    """Read source documents; a folder contributes its ``*.txt`` files by name.

    Hidden files and folders below a source folder (editor lock files such as
    ``.#news.txt``) and links that lead nowhere are passed over.

    Returns:
        ``(name, bytes)`` pairs in build order; the name is the path as given.

    Raises:
        SourceError: a source is missing, unreadable, or a folder has no ``*.txt``.
    """
    documents: list[tuple[str, bytes]] = []
    problems: list[Diagnostic] = []
    for path in paths:
        files = _text_files(path) if path.is_dir() else [path]
        if not files:
            problems.append(
                _problem(path, "expected *.txt source documents, found none")
            )
        for file in files:
            try:
                documents.append((str(file), file.read_bytes()))
            except FileNotFoundError:
                problems.append(_problem(file, "source not found"))
            except OSError as e:
                problems.append(_problem(file, f"cannot read source: {e.strerror}"))
    if problems:
        raise SourceError(problems)
    return documents


def _text_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*.txt")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def output_path(out_dir: Path, name: str) -> Path:
    """Join a relative output name to the output folder, refusing any escape.

    Raises:
        PublishError: the name is absolute, empty, or climbs out with ``..``.
    """
    pure = PurePosixPath(name)
    if (
        not name
        or pure.is_absolute()
        or ".." in pure.parts
        or "\\" in name
        or "\0" in name
    ):
        raise PublishError(
            f"{out_dir}: refusing to write {name!r} outside the output folder"
        )
    return out_dir.joinpath(*pure.parts)


def write_outputs(outputs: Mapping[str, bytes], out_dir: Path) -> PublishReport:
    """Write every output whose bytes changed; leave the others untouched.

    Each file is written to a temporary file in its own folder, flushed, fsynced
    and renamed into place, so a reader sees the old or the new file, never a part.

    Raises:
        PublishError: naming the path that could not be written.
    """
    targets = {name: output_path(out_dir, name) for name in sorted(outputs)}
    written: list[str] = []
    unchanged: list[str] = []
    mode = _file_mode()
    for name, path in targets.items():
        data = outputs[name]
        try:
            if path.is_file() and path.read_bytes() == data:
                unchanged.append(name)
                continue
        except OSError:
            pass  # unreadable: overwrite it
        _write_atomic(path, data, mode)
        written.append(name)
    return PublishReport(written=tuple(written), unchanged=tuple(unchanged))


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    temp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
        temp = None
        _fsync_dir(path.parent)
    except OSError as e:
        raise PublishError(f"{path}: cannot write: {e.strerror or e}") from e
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_mode() -> int:
    """The mode a plainly created file would get (mkstemp's is 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _problem(path: Path, message: str) -> Diagnostic:
    return Diagnostic(source=str(path), line=0, message=message, severity="error")
