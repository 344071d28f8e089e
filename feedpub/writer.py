"""Writing a large build's files in a process of its own (shell).

A build from scratch at 100,000 items writes 865 MB into 11,468 files, and
the system calls that create and fill them (the kernel copies every byte into
the page cache) cost the rendering process seconds it could spend rendering.
``publish.Publication`` hands such files to this process instead: it copies
each file's bytes into a ring of shared memory and sends an order over a
pipe; this process creates the temporary file the order names, writes the
bytes into it, and answers with 0 or the error number. The publication
renames nothing before every answer has come, so what a reader sees is
published all together, as before.

It runs as ``python -I -S writer.py FD`` (``FD``: the ring, a memfd) and uses
the standard library alone: it imports neither feedpub nor what feedpub
imports, so it adds a few MB to a build, not a copy of it.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import signal
import struct
import sys
from typing import BinaryIO

ORDER = struct.Struct("<QII")  # offset in the ring, length, length of the path
ANSWER = struct.Struct("<i")  # 0, or the errno of the failure
# The temporary is new (O_EXCL): a name already taken is answered EEXIST,
# and that file is left alone.
FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def serve(ring_fd: int, orders: BinaryIO, answers: int) -> None:
    """Carry out orders until they end: write the bytes an order points to in
    the ring into the new file it names; answer each in turn."""
    with mmap.mmap(ring_fd, 0, prot=mmap.PROT_READ) as ring:
        view = memoryview(ring)
        try:
            while len(head := orders.read(ORDER.size)) == ORDER.size:
                offset, length, size = ORDER.unpack(head)
                path = orders.read(size)
                if len(path) < size:
                    break
                code = write_file(path, view[offset : offset + length])
                os.write(answers, ANSWER.pack(code))
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


if __name__ == "__main__":
    # Ended by its publication (its orders end, or it is killed), not by a
    # Ctrl-C meant for the build: the build decides what happens to the files.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Its publication gone (killed): nothing to answer, and nothing to say.
    with contextlib.suppress(BrokenPipeError):
        serve(int(sys.argv[1]), sys.stdin.buffer, sys.stdout.fileno())
