"""Writing a large build's files in a process of its own (shell).

A build from scratch at 100,000 items writes 865 MB into 11,468 files, and
the system calls that create and fill them (the kernel copies every byte into
the page cache) cost the rendering process seconds it could spend rendering.
``publish.Publication`` hands such files to this process instead: it copies
each file's bytes into a ring of shared memory and sends an order over a
pipe; this process creates the temporary file the order names, writes the
bytes into it, and answers with 0 or the error number, and the sha256 of
the bytes (the state keeps one of each file). The publication
renames nothing before every answer has come, so what a reader sees is
published all together, as before.

It checks archive documents by their parts too (``validate.check_fragments``
and ``validate_archive``), with the patterns of ``forms.py``: an order of
that kind points to the check's arguments, marshalled, and is answered 0 or
``CHECK_FAILED``; the build then runs the same check itself, for its
message, and stops.

It runs as ``python -I -S writer.py FD PID`` (``FD``: the ring, a memfd;
``PID``: the build's process) and uses
the standard library alone: it imports neither feedpub nor what feedpub
imports (``forms.py`` is loaded by its path), so it adds a few MB to a
build, not a copy of it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import marshal
import mmap
import os
import signal
import struct
import sys
from types import ModuleType

TYPE_CHECKING = False  # typing's, without importing typing (2 MB here)
if TYPE_CHECKING:
    from typing import Any, BinaryIO

# Offset in the ring, length, length of the path that follows, and what to do.
ORDER = struct.Struct("<QIIB")
WRITE, CHECK = 0, 1
# 0, or the errno of the failure, or CHECK_FAILED; and the sha256 of the
# bytes of a file written (the build keeps it in its state), else zeros.
ANSWER = struct.Struct("<i32s")
CHECK_FAILED = -1
NO_DIGEST = bytes(32)
# The temporary is new (O_EXCL): a name already taken is answered EEXIST,
# and that file is left alone.
FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def serve(ring_fd: int, orders: BinaryIO, answers: int, build: int = 0) -> None:
    """Carry out orders until they end: write the bytes an order points to in
    the ring into the new file it names; answer each in turn. ``build``:
    the process id of the build; once it is gone (killed: it no longer
    holds the output folder's lock), the orders left are not carried out."""
    with mmap.mmap(ring_fd, 0, prot=mmap.PROT_READ) as ring:
        view = memoryview(ring)
        try:
            while len(head := orders.read(ORDER.size)) == ORDER.size:
                if build and os.getppid() != build:
                    break
                offset, length, size, what = ORDER.unpack(head)
                path = orders.read(size)
                if len(path) < size:
                    break
                data = view[offset : offset + length]
                digest = NO_DIGEST
                if what == WRITE:
                    code = write_file(path, data)
                    if not code:
                        digest = hashlib.sha256(data).digest()
                else:
                    code = check(data)
                data.release()
                os.write(answers, ANSWER.pack(code, digest))
        finally:
            view.release()


def write_file(path: bytes, data: memoryview) -> int:
    """Create ``path`` (which must not exist) with ``data``; 0, or the error
    number of what failed. A file that failed half-way stays: the
    publication that ordered it removes it."""
    try:
        fd = os.open(path, FLAGS, 0o666)  # the mode a plainly created file gets
    except OSError as e:
        return e.errno or errno.EIO
    code = 0
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError as e:
        code = e.errno or errno.EIO
    finally:
        try:
            os.close(fd)
        except OSError as e:  # a write-back error some file systems report here
            code = code or e.errno or errno.EIO
    return code


def check(payload: memoryview) -> int:
    """Run a check of archive documents on its marshalled arguments: 0 if
    it passes, else ``CHECK_FAILED``."""
    forms = _forms()
    what, args = marshal.loads(payload)
    if what == "fragments":  # validate.check_fragments(where, fragments)
        _, fragments = args
        failed = any(forms.triple_problems(fragments, _misfit))
    else:  # validate.validate_archive(path, kind, frame, ids)
        _, kind, frame, ids = args
        failed = forms.archive_problems(kind, frame, ids, _unparsed)
    return CHECK_FAILED if failed else 0


def _misfit(kind: Any, fragment: bytes) -> str:
    return "out of its form"  # the build finds out what, for its message


def _unparsed(kind: Any, frame: bytes) -> list[str]:
    return []


@functools.cache
def _forms() -> ModuleType:
    """``feedpub/forms.py``, run from its path: this process has no feedpub."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forms.py")
    module = ModuleType("feedpub_forms")
    module.__file__ = path
    with open(path, "rb") as source:
        exec(compile(source.read(), path, "exec"), module.__dict__)
    return module


if __name__ == "__main__":
    # Ended by its publication (its orders end, or it is killed), not by a
    # Ctrl-C meant for the build: the build decides what happens to the files.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Its publication gone (killed): nothing to answer, and nothing to say.
    with contextlib.suppress(BrokenPipeError):
        serve(int(sys.argv[1]), sys.stdin.buffer, sys.stdout.fileno(), int(sys.argv[2]))
