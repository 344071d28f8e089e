"""The disk: read source documents, write outputs atomically. Nothing else does I/O."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import functools
import hashlib
import marshal
import mmap
import os
import re
import select
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO

from feedpub.basics import Diagnostic
from feedpub.errors import (
    BusyError,
    PublishError,
    SourceError,
    StateError,
    ValidationError,
)
from feedpub.state import (
    OutputRecord,
    State,
    Tail,
    load_state,
    load_tail,
    read_inputs,
    summary_fits,
    summary_salt,
)

# The orders and answers the writer process reads and writes.
from feedpub.writer import ANSWER, CHECK, ORDER, WRITE

if TYPE_CHECKING:
    from feedpub.forms import Kind  # its patterns compile in a build that checks

# Publication._stage() names a temporary ".NAME.RANDOM.tmp", RANDOM 8 hex
# digits; builds before it used tempfile.mkstemp (8 of [A-Za-z0-9_]): both are found
_TEMPORARY = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")
_PACKAGE = Path(__file__).resolve().parent
# Whether a folder's listing spells each name as it is looked up: not on
# the case-insensitive, normalising file systems of macOS and Windows.
_EXACT_NAMES = sys.platform.startswith("linux")
_OUTPUT_LINE = re.compile(rb'\{"output": "([^"\\]+)", "size": (\d+),')


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishReport:
    """Which output files a build rewrote and which it left untouched."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]


def read_sources(
    paths: Iterable[Path], output: Path | None = None
) -> list[tuple[str, bytes]]:
    """Read source documents; a folder contributes its ``*.txt`` files by name.

    Hidden files and folders below a source folder (editor lock files such as
    ``.#news.txt``, which are often links that lead nowhere) are passed over,
    and so are links to folders, as ``Path.rglob`` does, and the ``output``
    folder wherever it lies below one: a ``robots.txt`` published beside the
    feeds is no source.

    Returns:
        ``(name, bytes)`` pairs in build order; the name is the path as given.

    Raises:
        SourceError: a source is missing or unreadable, a folder below a
            source cannot be listed, a ``*.txt`` is a link that leads nowhere,
            or a folder has no ``*.txt``.
    """
    documents: list[tuple[str, bytes]] = []
    problems: list[Diagnostic] = []
    skip = _folder_identity(output)
    for path in paths:
        files, unreachable = _text_files(path, skip) if path.is_dir() else ([path], [])
        problems.extend(unreachable)
        if not files and not unreachable:
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


def _folder_identity(folder: Path | None) -> tuple[int, int] | None:
    """The device and inode of a folder, None when there is none (yet)."""
    try:
        found = folder.stat() if folder is not None else None
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if found is not None else None


def _text_files(
    folder: Path, skip: tuple[int, int] | None = None
) -> tuple[list[Path], list[Diagnostic]]:
    """The ``*.txt`` files below ``folder`` in build order (sorted by path),
    and a problem for each folder that cannot be listed and each ``*.txt``
    that is a link leading nowhere. The folder whose device and inode are
    ``skip`` (the output's) is passed over.

    ``Path.rglob`` passes over both without a word, so a cron build would
    publish feeds with items missing and succeed; here they stop the build.
    Hidden names are passed over before anything else, so an editor's lock
    file or an unreadable ``.git`` never stops a build.
    """
    files: list[Path] = []
    problems: list[Diagnostic] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = [e for e in listing if not e.name.startswith(".")]
        except OSError as e:
            problems.append(_problem(current, f"cannot read folder: {e.strerror or e}"))
            continue
        for entry in entries:
            path = current / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if (
                        skip is None
                        or skip[1] != entry.inode()
                        or (skip[0] != entry.stat(follow_symlinks=False).st_dev)
                    ):
                        pending.append(path)
                elif entry.name.endswith(".txt") and entry.is_file():
                    files.append(path)
                elif entry.name.endswith(".txt") and entry.is_symlink():
                    path.stat()  # a link to no file: raises if it leads nowhere
            except FileNotFoundError:
                problems.append(_problem(path, "a link to a file that does not exist"))
            except OSError as e:  # a link in a loop, or into a folder closed to us
                problems.append(
                    _problem(path, f"cannot read source: {e.strerror or e}")
                )
    return sorted(files), sorted(problems, key=lambda d: Path(d.source))


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


class Publication:
    """Publishes a build's files all together, or not at all.

    ``stage()`` writes one file in full to a temporary file beside its target,
    unless the target already has those bytes (a file given in pieces is
    written first, then compared, and its temporary dropped when equal).
    Nothing a reader sees changes until ``commit()`` has synced them all to
    disk and renames every staged file over its target (each rename is
    atomic: a reader sees the old or the new file, never a part), the
    ``last`` one (the state file) after the others are in place and their
    folders synced. Once ``last`` is staged after more than a few files
    (a large build's state, written last), a thread has the disk flush those
    while it is written, and ``commit()`` waits for that and flushes the rest.
    Leaving the ``with`` block without ``commit()``
    (a full disk, a read-only folder, a failed check, a signal) removes the
    temporaries, so no published file has changed.

    With ``helper``, once ``_WRITER_AFTER`` files are staged, the files that
    follow are written by a process of their own (``_Writer``), while this
    one goes on: the same temporaries, the same bytes, and an error of that
    process stops the build as one here would. Where it cannot be started,
    ends before its work is done, or does not answer for a minute
    (``_WRITER_PATIENCE``), this process writes what it had left.
    """

    def __init__(
        self, out_dir: Path, last: str | None = None, *, helper: bool = False
    ) -> None:
        self._out_dir = out_dir
        self._root = out_dir.resolve()
        self._last = last
        self._staged: list[tuple[str, str]] = []  # (temporary, output name)
        self._folders: set[Path] = set()  # made, and found inside the root
        self._names: dict[Path, frozenset[str]] = {}  # see _listed
        # The sha256 (hex) of each output staged, or the order of the writer
        # process that will answer with it (``sha256``).
        self._digests: dict[str, str | _Order] = {}
        self.written: list[str] = []
        self.unchanged: list[str] = []
        # Flushing what was staged before the ``last`` file, while that one
        # is written (see ``stage``); None: not begun.
        self._flush: _Flush | None = None
        self._spills: list[Spill] = []
        # Files staged until the writer process starts; None: it never will
        # (no helper, or it could not start or ended).
        self._until_writer: int | None = _WRITER_AFTER if helper else None
        self._writer: _Writer | None = None

    def __enter__(self) -> Publication:
        return self

    def __exit__(self, *exc: object) -> None:
        for spill in self._spills:
            spill.close()
        self._end_writer(kill=True)  # it creates no temporary after this
        if self._flush is not None:
            self._flush.join()
        # Each one, whatever one of them gives (a name too long to have been
        # made): an error here would hide the one that stopped the build,
        # and leave the others.
        for temp in filter(None, (temp for temp, _ in self._staged)):
            with contextlib.suppress(OSError):
                os.unlink(temp)
        self._staged.clear()

    def stage(
        self, name: str, data: bytes | Iterable[bytes], same_as: str | None = None
    ) -> bool:
        """Stage one output; return whether it will change the published file.

        Args:
            name: the output's path below the output folder.
            data: its bytes, or its bytes in pieces: written as they come, so
                a large file (the state) is never held whole; it is compared
                with the published file once written.
            same_as: the sha256 the published file is known to have (from the
                state); saves reading it back. ``None``: compare the bytes.

        Raises:
            PublishError: naming the path that could not be written.
        """
        path = output_path(self._out_dir, name)
        self._digests.pop(name, None)  # staged again: what it was goes
        if name == self._last and len(self._staged) > _FSYNC_FILES:
            # The last file (a large build's state) is written last: the
            # disk can take the others meanwhile.
            self._drain()
            self._flush = self._flush or _Flush(self._root, self._staged)
        if not isinstance(data, bytes):
            digest = hashlib.sha256()
            self._stage(path, _hashed(data, digest), name)
            if same_as is None:
                same_as = _file_sha256(path)
            self._digests[name] = digest.hexdigest()
            if digest.hexdigest() == same_as:  # written for nothing: drop it
                temp, _ = self._staged[-1]
                try:
                    Path(temp).unlink(missing_ok=True)
                except OSError as e:
                    raise PublishError(
                        f"{temp}: cannot remove: {e.strerror or e}"
                    ) from e
                self._staged.pop()  # listed until gone: a signal leaves nothing
                self.unchanged.append(name)
                return False
            self.written.append(name)
            return True
        found = None
        if same_as is not None:
            found = hashlib.sha256(data).hexdigest()
            unchanged = same_as == found
        else:
            try:
                unchanged = (
                    self._listed(path) and path.is_file() and path.read_bytes() == data
                )
            except OSError:
                unchanged = False  # unreadable: overwrite it
        if unchanged:
            self._digests[name] = found or hashlib.sha256(data).hexdigest()
            self.unchanged.append(name)
            return False
        self._stage(path, data, name)
        self.written.append(name)
        return True

    def sha256(self, name: str) -> str:
        """The sha256 (hex) of the bytes last staged as ``name`` (written, or
        found unchanged): worked out as they were compared or written, here
        or in the writer process, whose answers it waits for if need be."""
        found = self._digests.get(name)
        if found is None:
            raise KeyError(f"{name}: not staged")
        if not isinstance(found, str):
            self._drain()  # every file answered for, or written here again
            found = self._digests[name]
            if not isinstance(found, str):
                raise RuntimeError(f"{name}: the writer process gave no sha256")
        return found

    def _written(self, order: _Order, digest: str) -> None:
        """The writer process wrote ``order``'s file, whose bytes have the
        sha256 ``digest``; kept if it is the last staging of its output."""
        if self._digests.get(order.name) is order:
            self._digests[order.name] = digest

    def _listed(self, path: Path) -> bool:
        """Whether the name of ``path`` was in its folder when this
        publication first looked there. Outputs are renamed into place only
        when it commits, and the build holds the output's lock: until then,
        a name not listed is no file and no link. A listing of each folder,
        not a ``stat`` of each of thousands of files (a build from scratch)."""
        if not _EXACT_NAMES:
            return True  # a listing may spell a name otherwise: look at the path
        folder = path.parent
        names = self._names.get(folder)
        if names is None:
            try:
                names = frozenset(os.listdir(folder))
            except FileNotFoundError:
                names = frozenset()
            except OSError:
                return True  # not known: the path itself is looked at
            self._names[folder] = names
        return path.name in names

    def _stage(
        self,
        path: Path,
        data: bytes | Iterable[bytes],
        name: str,
        *,
        current: bool = True,
    ) -> None:
        """Write ``data`` (bytes, or bytes in pieces) to a new temporary file
        beside ``path``.

        For bytes, their sha256 (worked out as they are written, here or by
        the writer process) is kept for ``sha256(name)`` if this is the
        ``current`` staging of ``name``, not a file the writer could not
        write for one staged before it.

        The temporary is listed in the staged files (with the output
        ``name``) before it is created, so wherever a signal stops this, the
        exit removes it; an error leaves it listed for the same removal. Each
        folder is made and checked once: a build writes thousands of files
        into a few folders, and holds the output's lock.
        """
        try:
            folder = path.parent
            if folder not in self._folders:
                folder.mkdir(parents=True, exist_ok=True)
                _inside(path, self._root)
                self._folders.add(folder)
            if self._listed(path) and path.is_symlink():
                raise PublishError(f"{path}: refusing to replace a symbolic link")
            if isinstance(data, bytes) and (writer := self._writer_for(data)):
                temp = _temporary(path)  # the writer makes it, or answers EEXIST
                self._staged.append((temp, name))
                order = _Order(temp, name, path, data)
                if current:  # before its answer can come
                    self._digests[name] = order
                self._answered(writer, writer.submit(order))
                return
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            while True:
                temp = _temporary(path)
                self._staged.append((temp, name))
                try:
                    # The mode a plainly created file gets (umask, default ACL).
                    fd = os.open(temp, flags, 0o666)
                    break
                except FileExistsError:
                    self._staged.pop()  # another file's name: leave that file alone
            if isinstance(data, bytes) and current:
                self._digests[name] = hashlib.sha256(data).hexdigest()
            if isinstance(data, bytes):
                # One system call for most files: a build writes thousands,
                # and a file object for each costs more than the writing.
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.writelines(data)
        except OSError as e:
            raise PublishError(f"{path}: cannot write: {e.strerror or e}") from e

    def check_fragments(
        self, where: str, fragments: Sequence[tuple[str, bytes, bytes]]
    ) -> None:
        """``validate.check_fragments``, in the writer process once it runs."""
        self._check("fragments", (where, list(fragments)))

    def validate_archive(
        self, path: str, kind: Kind, frame: bytes, item_ids: Sequence[str]
    ) -> None:
        """``validate.validate_archive``, in the writer process once it runs."""
        self._check("archive", (path, kind, frame, list(item_ids)))

    def _check(self, what: str, args: tuple[Any, ...]) -> None:
        """Run the check ``what`` of validate.py here, or hand it to the
        writer process (``feedpub/writer.py``), which checks with the same
        patterns (``forms.py``) while this process renders on. A check that
        fails there is run here again, for its message, when its answer
        comes: it raises ValidationError before anything is published."""
        if (writer := self._writer) is not None:
            payload = marshal.dumps((what, args))
            if len(payload) <= writer.largest:
                order = _Order("", what, Path(args[0]), payload, check=True)
                self._answered(writer, writer.submit(order))
                return
        _check_here(what, args)

    def _writer_for(self, data: bytes) -> _Writer | None:
        """The writer process for ``data``, started once ``_WRITER_AFTER``
        files are staged; None: write it here (no writer, or the file is
        empty or too large for its ring)."""
        if self._until_writer is not None and self._writer is None:
            self._until_writer -= 1
            if self._until_writer < 0:
                self._until_writer = None
                self._writer = _Writer.start(self._written)
        writer = self._writer
        fits = writer is not None and 0 < len(data) <= writer.largest
        return writer if fits else None

    def _answered(self, writer: _Writer, running: bool) -> None:
        """Act on what the writer could not write: a temporary whose name
        was taken is written here under another name; any other error
        stops the build. If the writer has ended (not ``running``), write
        here what it had left."""
        failed, writer.failed = writer.failed, []
        for order, code in failed:
            if order.check:
                _check_here(*marshal.loads(order.data))
                raise ValidationError(
                    f"{order.path}: a check of the writer process failed,"
                    " and passed here"
                )
            if code != errno.EEXIST:  # the exit removes what it left
                raise PublishError(f"{order.path}: cannot write: {os.strerror(code)}")
            self._staged.remove((order.temp, order.name))  # not ours: left alone
            current = self._digests.get(order.name) is order
            self._stage(order.path, order.data, order.name, current=current)
        if not running:
            self._writer_gone()

    def _drain(self) -> None:
        """Wait for the writer process to write every file handed to it,
        those it was handed again included."""
        while (writer := self._writer) is not None:
            running = writer.drain()
            if running and not writer.failed:
                return
            self._answered(writer, running)

    def _writer_gone(self) -> None:
        """The writer ended before its work was done: write here, under new
        names, each file it had not answered for."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        left = writer.abandon()
        for order in left:
            if not order.check:
                self._staged.remove((order.temp, order.name))
                with contextlib.suppress(OSError):  # perhaps made, half written
                    os.unlink(order.temp)
        for order in left:
            if order.check:
                _check_here(*marshal.loads(order.data))
            else:
                current = self._digests.get(order.name) is order
                self._stage(order.path, order.data, order.name, current=current)

    def _end_writer(self, *, kill: bool) -> None:
        writer, self._writer = self._writer, None
        self._until_writer = None
        if writer is not None:
            writer.end(kill=kill)

    def spill(self) -> Spill:
        """A temporary file in the output folder for bytes that wait to be
        written (``state.Aside``); gone when the publication ends."""
        spill = Spill(self._out_dir)
        self._spills.append(spill)
        return spill

    def commit(self) -> PublishReport:
        """Rename every staged file into place, the ``last`` one last.

        Raises:
            PublishError: naming the path that could not be renamed.
        """
        self._drain()
        self._end_writer(kill=False)
        staged = self._staged
        staged.sort(key=lambda pair: pair[1] == self._last)  # stable: last last
        # Every temporary on disk before any rename.
        flushed: set[str] = set()
        if self._flush is not None:
            self._flush.wait()
            flushed = self._flush.temporaries
        if rest := [temp for temp, _ in staged if temp not in flushed]:
            _sync_staged(self._root, rest)
        folders: set[Path] = set()
        for index, (temp, name) in enumerate(staged):
            path = output_path(self._out_dir, name)
            if name == self._last:
                _sync_folders(folders)
                folders.clear()
            try:
                os.replace(temp, path)
            except OSError as e:
                raise PublishError(f"{path}: cannot write: {e.strerror or e}") from e
            folders.add(path.parent)
            staged[index] = ("", name)
        _sync_folders(folders)
        self._staged = []
        return PublishReport(
            written=tuple(sorted(self.written)),
            unchanged=tuple(sorted(self.unchanged)),
        )


def write_outputs(
    outputs: Mapping[str, bytes], out_dir: Path, last: str | None = None
) -> PublishReport:
    """Write every output whose bytes changed, all together (see ``Publication``).

    Raises:
        PublishError: naming the path that could not be written.
    """
    with Publication(out_dir, last) as publication:
        for name in sorted(outputs):
            publication.stage(name, outputs[name])
        return publication.commit()


def _inside(path: Path, root: Path) -> None:
    """Refuse a path whose real folder (after symbolic links) leaves ``root``."""
    real = path.parent.resolve()
    if real != root and root not in real.parents:
        raise PublishError(
            f"{path}: refusing to write outside the output folder {root}"
            f" (a link leads to {real})"
        )


def _hashed(pieces: Iterable[bytes], digest: hashlib._Hash) -> Iterator[bytes]:
    """The pieces as they come, each added to ``digest`` on the way."""
    for piece in pieces:
        digest.update(piece)
        yield piece


def _file_sha256(path: Path) -> str | None:
    """The sha256 of a published file; None when there is none to read."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None  # missing or unreadable: overwrite it


# Up to this many staged files are flushed one by one, more with one syncfs.
_FSYNC_FILES = 64


def _temporary(path: Path) -> str:
    """A new name for the temporary of ``path``, beside it (``_TEMPORARY``)."""
    return str(path.parent / f".{path.name}.{os.urandom(4).hex()}.tmp")


def _check_here(what: str, args: tuple[Any, ...]) -> None:
    """Run the check ``what`` (``Publication._check``) in this process."""
    from feedpub import validate  # lxml: loaded by a build that renders

    if what == "fragments":
        validate.check_fragments(*args)
    else:
        validate.validate_archive(*args)


# Files a publication with a helper stages before it starts the writer
# process: a build that changes a few files (a new item: 12) writes them
# itself, with no process to start.
_WRITER_AFTER = 64
# Seconds the build waits for the writer to answer, or to take an order; a
# file takes it milliseconds. A writer that hangs is given up: the build
# writes and checks what it had left (spread.py gives up a helper so).
_WRITER_PATIENCE = 60.0


@dataclass(slots=True)
class _Order:
    """A file handed to the writer process: its temporary, its output name
    and path; its bytes, until they are copied into the ring, and again
    when they have to be written here."""

    temp: str
    name: str
    path: Path
    data: bytes
    offset: int = 0  # where its bytes are in the ring
    size: int = 0
    check: bool = False  # a check (name: which), not a file: Publication._check


class _Writer:
    """The build's side of the writer process (``feedpub/writer.py``).

    Each file's bytes are copied into a ring of shared memory (a memfd of
    ``RING`` bytes), and an order naming its temporary is sent through the
    process's standard input; its answers come back in order on its standard
    output, and each frees its file's part of the ring. When the ring has no
    room, the next file waits for answers. Linux only (``os.memfd_create``).
    """

    # Files larger than the ring are written by the build itself: at 100k
    # items, 3 yearly pages of 2.1-2.2 MB. Every MB of the ring is a MB more
    # of a large build's memory.
    RING = 2 << 20

    def __init__(
        self,
        ring: mmap.mmap,
        process: subprocess.Popen[bytes],
        written: Callable[[_Order, str], None] | None = None,
    ) -> None:
        """``written``: given each file written and the sha256 (hex) of its
        bytes, as its answer comes."""
        self._ring = ring
        self._written = written
        self._process = process
        assert process.stdin is not None
        assert process.stdout is not None
        self._orders = process.stdin.fileno()
        self._answers = process.stdout.fileno()
        os.set_blocking(self._orders, False)
        os.set_blocking(self._answers, False)
        # poll, not select: a build may hold more than 1,024 files open.
        self._can_send = select.poll()
        self._can_send.register(self._orders, select.POLLOUT)
        self._can_take = select.poll()
        self._can_take.register(self._answers, select.POLLIN)
        self._pending: deque[_Order] = deque()
        self._head = 0  # where the next file's bytes go
        self._partial = b""  # an answer read in part
        # Files answered with an error number, with their bytes again.
        self.failed: list[tuple[_Order, int]] = []
        self.largest = self.RING  # larger files are written by the build

    @classmethod
    def start(
        cls, written: Callable[[_Order, str], None] | None = None
    ) -> _Writer | None:
        """A writer process (see ``__init__``); None where none can be started."""
        if not hasattr(os, "memfd_create") or not sys.executable:
            return None
        try:
            fd = os.memfd_create("feedpub-ring", os.MFD_CLOEXEC)
        except OSError:
            return None
        try:
            os.ftruncate(fd, cls.RING)
            ring = mmap.mmap(fd, cls.RING)
        except OSError:
            os.close(fd)
            return None
        writer = str(_PACKAGE / "writer.py")
        command = [sys.executable, "-I", "-S", writer, str(fd), str(os.getpid())]
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(fd,)
            )
        except OSError:
            ring.close()
            return None
        finally:
            os.close(fd)
        return cls(ring, process, written)

    def submit(self, order: _Order) -> bool:
        """Hand one file to the process; False if it has ended (see
        ``abandon``). Files it answered with an error number are added to
        ``failed``."""
        size = len(order.data)
        while (offset := self._room(size)) is None:
            if not self._collect(wait=True):
                order.size = size
                self._pending.append(order)  # its bytes are not in the ring
                return False
        self._ring[offset : offset + size] = order.data
        order.offset, order.size, order.data = offset, size, b""
        self._pending.append(order)
        self._head = offset + size
        path = os.fsencode(order.temp)
        what = CHECK if order.check else WRITE
        message = memoryview(ORDER.pack(offset, size, len(path), what) + path)
        try:
            while message:
                try:
                    message = message[os.write(self._orders, message) :]
                except BlockingIOError:  # the pipe is full: wait, not forever
                    if not self._can_send.poll(_WRITER_PATIENCE * 1000):
                        return False
        except OSError:  # it ended
            return False
        return self._collect(wait=False)

    def _room(self, size: int) -> int | None:
        """Where ``size`` bytes fit in the ring without touching a pending
        file's; None: nowhere yet."""
        if not self._pending:
            return 0
        oldest, head = self._pending[0].offset, self._head
        if head > oldest:  # pending: [oldest, head)
            if head + size <= self.RING:
                return head
            return 0 if size < oldest else None
        # pending: [oldest, RING) and [0, head)
        return head if head + size < oldest else None

    def _collect(self, *, wait: bool) -> bool:
        """Take the answers that have come (with ``wait``, at least one);
        False if the process has ended."""
        if wait and not self._can_take.poll(_WRITER_PATIENCE * 1000):
            return False  # it hangs: given up, as spread.py gives up a helper
        try:
            data = os.read(self._answers, ANSWER.size * len(self._pending) or 1)
        except BlockingIOError:
            return True
        if not data:
            return False
        data = self._partial + data
        whole = len(data) - len(data) % ANSWER.size
        data, self._partial = data[:whole], data[whole:]
        for code, digest in ANSWER.iter_unpack(data):
            order = self._pending.popleft()
            if code:
                order.data = self._ring[order.offset : order.offset + order.size]
                self.failed.append((order, code))
            elif not order.check and self._written is not None:
                self._written(order, digest.hex())
        return True

    def drain(self) -> bool:
        """Wait until every file handed over is answered for; False if the
        process has ended first."""
        while self._pending:
            if not self._collect(wait=True):
                return False
        return True

    def abandon(self) -> list[_Order]:
        """End the process (it has ended, or is of no more use) and give
        back, with their bytes, the files it did not answer for."""
        self.end(kill=True, close=False)
        left = list(self._pending)
        for order in left:
            if not order.data:  # in the ring
                order.data = self._ring[order.offset : order.offset + order.size]
        self._pending.clear()
        self._ring.close()
        return left

    def end(self, *, kill: bool, close: bool = True) -> None:
        """End the process: at once (``kill``: nothing it still writes is
        wanted), or once it has done its orders; ``close``: and the ring."""
        process = self._process
        assert process.stdin is not None
        assert process.stdout is not None
        if kill and process.poll() is None:
            process.kill()
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(_WRITER_PATIENCE)  # its orders done, it ends at once
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        if close:
            self._ring.close()


class Spill:
    """Bytes written to a temporary file, read back once in pieces: a
    ``state.Aside`` that keeps them out of memory. On Linux the file has no
    name, so nothing of it stays on disk whatever stops the build; elsewhere
    its name is removed as soon as it is made. Unbuffered: a write that
    fails (a full disk) fails at once, and closing flushes nothing."""

    def __init__(self, folder: Path) -> None:
        import tempfile  # loaded by a build that renders, not by a no-op one

        self._folder = folder
        try:
            self._file = tempfile.TemporaryFile(dir=folder, buffering=0)  # noqa: SIM115 (closed by close)
        except OSError as e:
            raise self._error("write", e) from e

    def write(self, data: bytes, /) -> None:
        try:
            view = memoryview(data)
            while view:  # FileIO.write may write a part
                written = self._file.write(view)
                if not written:
                    raise OSError("nothing written")
                view = view[written:]
        except OSError as e:
            raise self._error("write", e) from e

    def pieces(self, size: int = 1 << 22) -> Iterator[bytes]:
        """What was written, in pieces of ``size`` bytes; then the file goes."""
        try:
            self._file.seek(0)
            while piece := self._file.read(size):
                yield piece
        except (OSError, ValueError) as e:  # ValueError: read once already
            raise self._error("read", e) from e
        finally:
            self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):  # nothing is lost: it is a temporary
            self._file.close()

    def _error(self, doing: str, e: Exception) -> PublishError:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e
        return PublishError(
            f"{self._folder}: cannot {doing} a temporary file: {reason}"
        )


class _Flush(threading.Thread):
    """``_sync_staged`` of the temporaries staged so far, in a thread: the
    system call waits for the disk, not for this process."""

    def __init__(self, root: Path, staged: Iterable[tuple[str, str]]) -> None:
        super().__init__(name="feedpub-flush", daemon=True)
        self._root = root
        self.temporaries = {temp for temp, _ in staged}
        self._error: PublishError | None = None
        self.start()

    def run(self) -> None:
        try:
            _sync_staged(self._root, list(self.temporaries))
        except PublishError as e:
            self._error = e

    def wait(self) -> None:
        """Wait for the flush; raise its error."""
        self.join()
        if self._error is not None:
            raise self._error


def _sync_staged(root: Path, temporaries: list[str]) -> None:
    """Flush the staged files to disk: an ``fsync`` of each when there are a
    few, else one ``syncfs`` of the output folder's file system (Linux; it
    reports write-back errors such as ENOSPC). One call instead of one per
    file is what keeps a build of thousands of archive documents from
    waiting on the disk; but it also waits for everything else written to
    that file system, so a build that changed a few files (a new item)
    flushes just those."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            syncfs = _load_syncfs() if len(temporaries) > _FSYNC_FILES else None
            if syncfs is not None:
                if syncfs(fd) != 0:
                    number = _errno()
                    raise OSError(number, os.strerror(number))
                return
        finally:
            os.close(fd)
        for temp in temporaries:
            handle = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)
    except OSError as e:
        raise PublishError(f"{root}: cannot write: {e.strerror or e}") from e


@functools.cache
def _load_syncfs() -> Callable[[int], int] | None:
    import ctypes  # loaded by a build that writes, not by one that finds no change

    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def _sync_folders(folders: Iterable[Path]) -> None:
    for folder in sorted(folders):
        try:
            _fsync_dir(folder)
        except OSError as e:
            raise PublishError(f"{folder}: cannot sync: {e.strerror or e}") from e


@contextlib.contextmanager
def locked_output(out_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the output folder's lock: one build at a time writes to a folder.

    The lock is ``flock`` on the folder itself, so it needs no lock file and
    is released by the kernel when a build ends in any way, even by SIGKILL.
    A build that made the folder and fails removes it again, with the empty
    folders in it and the folders it made above it, before it lets go of the
    lock (a failed build removes its files first, see ``Publication``); so
    a build waiting for that lock finds the folder it locked gone, and makes
    and locks it anew.

    Args:
        out_dir: the output folder; created if missing.
        wait: seconds to wait for another build to finish; 0: do not wait.

    Raises:
        BusyError: another build still holds the lock after ``wait`` seconds.
        PublishError: the folder cannot be created or opened.
    """
    deadline = time.monotonic() + wait
    for _ in range(_MAX_ATTEMPTS):
        made = [f for f in (out_dir, *out_dir.parents) if not f.exists()]
        fd = _open_folder(out_dir)
        if fd is None:
            continue  # removed between making and opening it: make it again
        try:
            _lock(fd, out_dir, wait, deadline)
        except BaseException:
            os.close(fd)
            raise
        if _same_folder(fd, out_dir):
            break
        os.close(fd)  # removed by a build that failed: make it again
    else:
        raise PublishError(f"{out_dir}: cannot use output folder: it keeps vanishing")
    try:
        yield
    except BaseException:
        if made:
            _remove_empty(out_dir, made)
        raise
    finally:
        os.close(fd)  # closing the descriptor releases the lock


_MAX_ATTEMPTS = 100  # folders made and removed again by other builds meanwhile


def _lock(fd: int, out_dir: Path, wait: float, deadline: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                waited = f"waited {wait:g} s" if wait else "not waiting"
                raise BusyError(
                    f"{out_dir}: another feedpub build is running"
                    f" ({waited}; see --wait)"
                ) from None
            time.sleep(0.05)


def _remove_empty(out_dir: Path, made: list[Path]) -> None:
    """Remove the empty folders in ``out_dir``, then it and the folders
    above it in ``made``, as long as each is empty: never a file."""
    for folder, _, _ in os.walk(out_dir, topdown=False):  # it last
        with contextlib.suppress(OSError):
            os.rmdir(folder)
    for above in made[1:]:  # made[0] is out_dir
        try:
            above.rmdir()
        except OSError:
            return  # not empty, or not ours to remove


def _open_folder(out_dir: Path) -> int | None:
    """Make the folder and open it; None when it was removed in between."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise PublishError(
            f"{out_dir}: cannot use output folder: {e.strerror or e}"
        ) from e


def _same_folder(fd: int, out_dir: Path) -> bool:
    """Whether the folder open as ``fd`` is still the one at ``out_dir``."""
    try:
        found = os.stat(out_dir)
    except OSError:
        return False
    held = os.fstat(fd)
    return (found.st_dev, found.st_ino) == (held.st_dev, held.st_ino)


def scan_output(out_dir: Path) -> tuple[frozenset[str], tuple[Path, ...]]:
    """Every file below the output folder (POSIX paths, relative), and apart
    from them the temporary files an interrupted build left.

    A build renames the state file last, so one that was stopped after it
    renamed some files leaves the old state and at least one temporary: the
    published files may then mix two versions. Until a build has published
    in full again, a mark says so (``begin_repair``, ``end_repair``), so a
    build stopped while repairing leaves the repair to the next one.
    """
    found: set[str] = set()
    leftovers: list[Path] = []
    root = os.fspath(out_dir)
    for folder, folders, files in os.walk(root):  # links to folders: not followed
        folders.sort()
        prefix = os.path.relpath(folder, root).replace(os.sep, "/") + "/"
        prefix = "" if prefix == "./" else prefix
        for name in sorted(files):
            if name[:1] == "." and name[-4:] == ".tmp" and _TEMPORARY.fullmatch(name):
                leftovers.append(Path(folder, name))
            else:
                found.add(prefix + name)
    return frozenset(found), tuple(leftovers)


REPAIR = ".feedpub-repair"  # in the output folder while a repair is pending


def begin_repair(out_dir: Path, leftovers: Iterable[Path]) -> None:
    """Record that the published files may mix two versions, then delete an
    interrupted build's temporaries: the mark (not the temporaries, which
    would pile up if repairs are stopped again) stays until ``end_repair``."""
    mark = out_dir / REPAIR
    try:
        with mark.open("wb") as handle:
            handle.write(b"a build was interrupted; the next one renders everything\n")
            handle.flush()
            os.fsync(handle.fileno())
        _sync_folders([out_dir])
    except OSError as e:
        raise PublishError(f"{mark}: cannot write: {e.strerror or e}") from e
    for path in leftovers:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def end_repair(out_dir: Path) -> None:
    """Remove the mark of ``begin_repair``: everything is published in full."""
    with contextlib.suppress(FileNotFoundError):
        (out_dir / REPAIR).unlink()


def read_state(out_dir: Path, name: str, *, records: bool = True) -> State | None:
    """The state file in the output folder; ``None`` when there is none.
    ``records``: False leaves its item records out (``state.load_state``).

    Raises:
        StateError: the file is not valid (naming ``file:line``).
        PublishError: the file exists but cannot be read.
    """
    path = out_dir / name
    try:
        with path.open("rb") as handle:  # read line by line, never held whole
            return load_state(handle, str(path), records=records)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise PublishError(f"{path}: cannot read state: {e.strerror or e}") from e


def state_salt(out_dir: Path, name: str) -> str | None:
    """The salt (code and config) of the build that wrote the state file, from
    its summary, its last line; ``None`` when there is no file, or no summary
    as written."""
    try:
        with (out_dir / name).open("rb") as handle:
            return summary_salt(_last_line(handle)[0])
    except OSError:
        return None


def read_tail(out_dir: Path, name: str, salt: str | None = None) -> Tail | None:
    """The state file as a ``state.Tail``; ``None`` when there is none, or
    it has no summary, or its item records are not those it names, or it
    was written under another ``salt`` (see ``state.load_tail``).

    Raises:
        StateError: the records before the item records are not valid.
        PublishError: the file exists but cannot be read.
    """
    path = out_dir / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise PublishError(f"{path}: cannot read state: {e.strerror or e}") from e
    return load_tail(data, str(path), salt)


def unchanged_since(
    out_dir: Path, name: str, inputs: str, present: frozenset[str]
) -> bool:
    """Whether the last build read the same ``inputs`` and its files are in place.

    Reads only the state file's first records and checks that each published
    file is among ``present`` (``scan_output``), not its size or bytes: a
    file edited by hand is rendered again by ``build --force``. This is all a
    cron run does when nothing changed, so it reads the output records with a
    pattern (they are written in one form) rather than as JSON. It reads the
    state's last line too: a state file cut short or lengthened since it was
    written (``state.summary_fits``) is not taken as it is, so the build
    that follows reads it whole, and stops at the line that is not valid
    (or, if every line is, builds the whole way).
    """
    path = out_dir / name
    try:
        with path.open("rb") as handle:
            recorded = read_inputs(handle.readline(), str(path))
            if recorded != inputs:
                return False
            count = 0
            for line in handle:
                if not line.startswith(b'{"output"'):
                    break
                found = _OUTPUT_LINE.match(line)
                if found is None or found[1].decode() not in present:
                    return False
                count += 1
            if count == 0:
                return False
            line, at = _last_line(handle)
    except (OSError, StateError, UnicodeDecodeError):
        return False
    return summary_fits(line, at)


def _last_line(handle: BinaryIO, chunk: int = 1 << 16) -> tuple[bytes, int]:
    """The last line of an open file, and where it starts; read from the end
    (a state file's last line is its summary, of a few KB)."""
    end = handle.seek(0, os.SEEK_END)
    pieces: list[bytes] = []  # read from the end, each once
    start = end
    while start > 0:
        size = min(chunk, start)
        start -= size
        handle.seek(start)
        piece = handle.read(size)
        # the newline before the last line; not the one that ends the file
        cut = piece.rfind(b"\n", 0, size - 1 if start + size == end else size)
        if cut >= 0:
            return b"".join([piece[cut + 1 :], *reversed(pieces)]), start + cut + 1
        pieces.append(piece)
    return b"".join(reversed(pieces)), 0


def files_in_place(
    out_dir: Path, records: Iterable[OutputRecord]
) -> list[OutputRecord]:
    """The records whose file is in the output folder with the recorded size."""
    found: list[OutputRecord] = []
    for record in records:
        try:
            if (out_dir / record.path).stat().st_size == record.size:
                found.append(record)
        except OSError:
            continue
    return found


def read_config_bytes(path: Path | None) -> bytes:
    """The config file's bytes, for the inputs digest (empty without a file)."""
    if path is None:
        return b""
    try:
        return path.read_bytes()
    except OSError:
        return b""


@functools.cache
def code_digest() -> str:
    """A digest of feedpub's own code and templates: a new feedpub rebuilds."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.suffix in {".py", ".j2", ".xsl", ".js", ".css"} and path.is_file():
            digest.update(path.relative_to(_PACKAGE).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_clock() -> dt.datetime:
    """The time of this build, in whole seconds: ``SOURCE_DATE_EPOCH`` if set.

    Raises:
        PublishError: ``SOURCE_DATE_EPOCH`` is not a whole number of seconds.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    except (ValueError, OverflowError, OSError) as e:
        raise PublishError(
            f"SOURCE_DATE_EPOCH: expected whole seconds since 1970, found {epoch!r}"
        ) from e


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _problem(path: Path, message: str) -> Diagnostic:
    return Diagnostic(source=str(path), line=0, message=message, severity="error")
