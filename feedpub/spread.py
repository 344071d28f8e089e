"""Reading a large build's items on two cores: a helper process (shell).

A build from scratch spends about a third of its time reading, normalising
and tagging its items, one block at a time, each on its own (``site._read``,
in runs of ``site.RUN`` blocks). ``Spread`` shares those runs with a helper
process: the helper reads the runs it is handed and sends back what each
gave, pickled, while this process reads the others, and the results are
given in the order of the runs. A run gives the same wherever it is read,
so the build publishes the same bytes as one that reads alone
(``build --jobs 1``).

Runs are handed a few ahead, and the pipe back is widened to hold a few
results, so the helper never waits for this process between runs.

Whatever goes wrong with the helper (it cannot be forked, dies, a run fails
in it, or what it is handed cannot be pickled), this process reads the runs
it had handed it: a run that failed there fails here with its own error.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import pickle
import queue
import select
import signal
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from feedpub.model import Block, evolve
from feedpub.site import Job, ReadRun

# Fewer runs than this are read here alone: forking costs more than it saves.
LEAST_RUNS = 8
LEAST_BYTES = 2 << 20  # sources smaller than this give few runs: no helper
_AHEAD = 3  # runs handed to the helper before it sent any back
_PATIENCE = 60.0  # seconds to wait for one run of the helper (one takes 0.1)
_PIPE_SIZE = 1 << 20  # bytes a pipe holds (F_SETPIPE_SZ; Linux's usual most)
_F_SETPIPE_SZ = 1031
_PR_SET_PDEATHSIG = 1
_LENGTH = struct.Struct("!Q")  # the length of an order, before its pickle
_ENDING = 5.0  # seconds a helper has to end once its orders end


class Spread:
    """Reads runs of blocks here and in a helper process forked at its start
    (``site.Spread``); a context manager, which ends the helper.

    The helper is forked before the build cuts its sources into blocks, when
    this process holds little but the sources' bytes. The runs it reads are
    sent to it, each block with its own lines only, so it lets go of the
    sources at once (``let_go``). It serves the first call, if that
    has ``LEAST_RUNS`` runs or more, and ends with it, so that it is not
    kept while the build renders: the runs of later calls (a build that
    reads a year at a time, the newest first, until its feeds are full:
    small years, read quickly) are read here alone. A helper forked later
    would share the pages of every item this process has made so far, and
    copy each that either process writes to.
    """

    def __init__(self, size: int, let_go: list[Any] | None = None) -> None:
        """``size``: the bytes of the sources; below ``LEAST_BYTES``, there
        is no helper and every run is read here. ``let_go``: a list (the
        sources read) that the helper empties at once: it is handed each
        block with its own lines, and the pages of what only that list holds
        go once this process lets go of it too, not when the helper ends."""
        fork = size >= LEAST_BYTES and _can_fork()
        self._helper = _start(let_go) if fork else None

    def __enter__(self) -> Spread:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """End the helper, whether a call has it or not."""
        if self._helper is not None:
            self._helper.stop()

    def __call__(
        self, runs: list[list[Job]], read: Callable[[list[Job]], ReadRun]
    ) -> Iterator[ReadRun]:
        """What each of ``runs`` gave when read with ``read``, in order; each
        run is let go once read, here or by the helper."""
        helper = self._helper
        if helper is not None and not helper.alive:
            helper = None  # a call has had it: this one reads here
        try:
            if helper is not None and (
                len(runs) < LEAST_RUNS or not helper.begin(read)
            ):
                helper.stop()  # not kept idle while the build renders
                helper = None
            yield from _share(runs, read, helper)
        finally:
            if helper is not None:
                helper.stop()


def _can_fork() -> bool:
    # Only on Linux (elsewhere, system libraries may not survive a fork:
    # macOS), with a second core to run on, and with no other thread running
    # (a fork copies only the thread that calls it; none runs before a
    # build reads).
    return (
        sys.platform.startswith("linux")
        and len(os.sched_getaffinity(0)) > 1
        and threading.active_count() == 1
    )


def _share(
    runs: list[list[Job]],
    read: Callable[[list[Job]], ReadRun],
    helper: _Helper | None,
) -> Iterator[ReadRun]:
    done: dict[int, ReadRun] = {}
    handed: deque[int] = deque()  # the runs the helper has, oldest first
    taken = given = 0  # runs taken by either process; results given

    def ours(number: int) -> None:
        done[number] = read(runs[number])
        runs[number] = []

    while given < len(runs):
        while helper is not None and len(handed) < _AHEAD and taken < len(runs):
            if not helper.hand(runs[taken]):
                break
            handed.append(taken)
            taken += 1
        # Take what the helper sent; wait for it once nothing else is left.
        while helper is not None and helper.alive and handed:
            if not helper.ready(wait=taken == len(runs)):
                break
            result = helper.take()
            if result is None:
                break
            number = handed.popleft()
            done[number] = result
            runs[number] = []
        if helper is not None and not helper.alive:
            helper = None
            while handed:  # the helper failed: read here what it had
                ours(handed.popleft())
        while given in done:
            yield done.pop(given)
            given += 1
        if taken < len(runs):
            ours(taken)
            taken += 1


class _Helper:
    """The helper process and the two pipes to it (orders; results)."""

    def __init__(self, let_go: list[Any] | None = None) -> None:
        from multiprocessing.connection import Connection  # only a large build forks

        orders_in, orders_out = os.pipe()
        results_in, results_out = os.pipe()
        for end in (orders_out, results_out):
            with contextlib.suppress(OSError):  # a pipe of the usual size does
                fcntl.fcntl(end, _F_SETPIPE_SZ, _PIPE_SIZE)
        parent = os.getpid()
        try:
            self.pid = os.fork()
        except OSError:
            for fd in (orders_in, orders_out, results_in, results_out):
                os.close(fd)
            raise
        if self.pid == 0:  # the helper: never returns into the build
            try:
                if let_go is not None:
                    let_go.clear()
                _serve(
                    orders_in,
                    Connection(results_out, readable=False),
                    parent,
                )
            finally:
                os._exit(0)
        os.close(orders_in)
        os.close(results_out)
        os.set_blocking(orders_out, False)  # see _write
        self._orders = orders_out
        self._results = Connection(results_in, writable=False)
        self.alive = True
        self._stopped = False

    def _send(self, order: object) -> bool:
        if self.alive:
            try:
                data = pickle.dumps(order, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError):
                self.alive = False  # not for the helper: read it here
            else:
                self.alive = self._write(_LENGTH.pack(len(data)) + data)
        return self.alive

    def _write(self, data: bytes) -> bool:
        """Write one order (its length, then its pickle: ``_next_order``);
        False if the helper is gone or takes none for ``_PATIENCE`` seconds (it takes
        every order as it comes, in a thread of its own)."""
        view = memoryview(data)
        deadline = time.monotonic() + _PATIENCE
        try:
            while view:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([], [self._orders], [], left)[1]:
                    return False
                with contextlib.suppress(BlockingIOError):
                    view = view[os.write(self._orders, view) :]
        except OSError:
            return False
        return True

    def begin(self, read: Callable[[list[Job]], ReadRun]) -> bool:
        """Have the helper read with ``read`` (pickled: a function of the
        core with the config and tagger); False if it is gone."""
        return self._send(("read", read))

    def hand(self, run: list[Job]) -> bool:
        """Hand the helper a run to read; False if it is gone."""
        return self._send(("run", [(_slim(block), *rest) for block, *rest in run]))

    def ready(self, *, wait: bool) -> bool:
        """Whether a result (or the helper's end) is there; waits if asked,
        ``_PATIENCE`` seconds at most: a helper that hangs is given up."""
        try:
            if self._results.poll(_PATIENCE if wait else 0):
                return True
        except (OSError, ValueError):
            pass
        else:
            if not wait:
                return False
        self.alive = False
        return False

    def take(self) -> ReadRun | None:
        """The next result the helper sent; None: it failed or is gone."""
        try:
            result: Any = self._results.recv()
        except (EOFError, OSError):
            result = None
        if not isinstance(result, ReadRun):
            self.alive = False
            return None
        return result

    def stop(self) -> None:
        """End the helper and close the pipes, once: a helper given up is
        killed, one that does not end within 5 seconds too."""
        if self._stopped:
            return
        self._stopped = True
        given_up, self.alive = not self.alive, False
        with contextlib.suppress(OSError):
            os.close(self._orders)
        with contextlib.suppress(OSError):
            self._results.close()
        # No child to wait for when SIGCHLD is ignored: the kernel reaped it.
        with contextlib.suppress(ChildProcessError):
            deadline = time.monotonic() + (0 if given_up else _ENDING)
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() >= deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.005)


def _slim(block: Block) -> Block:
    """The block with its own lines only: the rest of its document stays."""
    body = block.document[block.start : block.end]
    return evolve(block, document=body, head=0, start=0, end=len(body))


def _start(let_go: list[Any] | None) -> _Helper | None:
    try:
        return _Helper(let_go)
    except OSError:  # no process to be had: read alone
        return None


def _serve(orders: int, results: Any, parent: int) -> None:
    """The helper: read each run handed, in order, until the orders end."""
    _detach(parent, keep=(orders, results.fileno()))
    # A thread takes the orders as they come, so the build never waits to
    # hand a run while this process waits to send a result, whatever the
    # size of the pipes.
    inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    threading.Thread(target=_take_orders, args=(orders, inbox), daemon=True).start()
    read: Callable[[list[Job]], ReadRun] | None = None
    while True:
        kind, what = inbox.get()
        if kind == "end":
            break
        if kind == "read":
            read = what
            continue
        try:
            result: ReadRun | None = read(what) if read is not None else None
        except Exception:  # the build reads the run again and says why
            result = None
        del what
        try:
            results.send(result)
        except OSError:
            break
        if result is None:
            break
    os._exit(0)  # nothing of the build's to clean up or flush here


def _take_orders(orders: int, inbox: queue.SimpleQueue[tuple[str, Any]]) -> None:
    while True:
        try:
            order = _next_order(orders)
        except BaseException:  # the end of the orders, or one that cannot be read
            inbox.put(("end", None))
            return
        inbox.put(order)


def _next_order(orders: int) -> Any:
    """The next order ``_Helper._write`` wrote; EOFError at the end."""
    (size,) = _LENGTH.unpack(_exactly(orders, _LENGTH.size))
    return pickle.loads(_exactly(orders, size))


def _exactly(fd: int, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        piece = os.read(fd, size - len(data))
        if not piece:
            raise EOFError("the orders ended")
        data += piece
    return bytes(data)


def _detach(parent: int, keep: tuple[int, ...]) -> None:
    """Leave the build's signals, files and lock to the build.

    Ctrl-C and SIGTERM stop the build, which ends this process (a signal to
    the process group ends it at once); the kernel kills it when the build
    dies. Every file the fork copied is closed but the two pipes: the
    output folder's lock goes with the build, and whoever reads the build's
    output or error stream does not wait for this process.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before the line above
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for standard in {0, 1, 2} - set(keep):  # a pipe may be one (stdio closed)
        os.dup2(null, standard)
    last = 3
    for fd in sorted(fd for fd in keep if fd >= last):
        os.closerange(last, fd)
        last = fd + 1
    os.closerange(last, os.sysconf("SC_OPEN_MAX"))
