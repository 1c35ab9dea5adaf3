"""OCR of a page in a child process, bounded in time and memory.

Tesseract runs in-process through tesserocr (see :mod:`aizoomdoc.documents.ocr`), so a page that
makes it run away could hold a worker forever. Each :class:`OcrProcess` keeps one long-lived child
(spawned, so it shares nothing with the caller's threads or event loop) with the language model
loaded once; a page that takes longer than ``timeout`` seconds gets the child killed and a fresh
one started for the next page, and the child's address space is capped (``RLIMIT_AS``), so a page
that needs more memory fails alone. The child runs as background work (:func:`background_priority`):
a lower CPU priority (``OCR_NICE``) in a session of its own, so that the priority holds under
autogroup scheduling too and a machine that also serves the API answers questions first; and
``OMP_THREAD_LIMIT=1``: one core per child (parallelism comes from more children and more
workers, not from OpenMP threads fighting over the same cores).

:class:`OcrPool` is N such processes for the local job runner (N = ``JOBS_LOCAL_WORKERS``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from multiprocessing.connection import Connection
from typing import Any

from aizoomdoc.documents.ocr import OcrOptions

log = logging.getLogger(__name__)


class OcrFailed(Exception):
    """The page could not be recognised: ``reason`` is ``timeout``, ``memory`` or ``error``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def background_priority(nice: int) -> None:
    """Run this process as background work: one OpenMP thread, ``nice`` and its own session.

    ``os.nice`` alone does not lower the share of the CPU on Linux with autogroup scheduling (on by
    default on desktop and many server kernels, ``/proc/sys/kernel/sched_autogroup_enabled``): the
    scheduler first shares the CPU equally between *sessions*, and niceness only counts between the
    processes of one session. A worker started in its own session (systemd, ``setsid``, a
    container's init) so got as much CPU for OCR as the whole API server. The process therefore
    starts its own session and lowers that session's weight (``/proc/self/autogroup``); it also
    gets a session's share of its own, so N OCR processes on a machine busy with other work get N
    shares rather than one between them. Must run before Tesseract loads (``OMP_THREAD_LIMIT`` is
    read when its OpenMP runtime starts: a Tesseract built with OpenMP, as Debian's is, otherwise
    runs one thread per core in every process and N processes fight over the same cores)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        if os.getsid(0) != os.getpid():
            os.setsid()
    except OSError:  # pragma: no cover - already a group leader: keep the session
        pass
    if nice > 0:
        os.nice(nice)  # background work: the API's requests come first on a shared core
    _autogroup_nice(nice)


def _autogroup_nice(nice: int) -> None:
    """Give this session's autogroup the niceness ``nice`` (no-op where there is no autogroup)."""
    path = "/proc/self/autogroup"
    if nice <= 0 or not os.path.exists(path):
        return
    import time

    for _ in range(20):  # the kernel takes one change per 100 ms machine-wide (EAGAIN otherwise)
        try:
            with open(path, "w") as f:
                f.write(str(min(nice, 19)))
            return
        except BlockingIOError:
            time.sleep(0.1)
        except OSError as exc:  # not allowed here (a container's /proc read-only): niceness only
            log.debug("autogroup nice not set: %s", exc)
            return


def _exit_with_parent() -> None:  # pragma: no cover - runs in the child
    """In its own session the child no longer gets its parent's group signals: it exits when the
    parent is gone (checked every second; a page being read is abandoned)."""
    parent = os.getppid()

    def watch() -> None:
        import time

        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="ocr-parent-watch", daemon=True).start()


def _child(conn: Connection, options: OcrOptions, memory_mb: int, nice: int) -> None:  # pragma: no cover
    background_priority(nice)
    _exit_with_parent()
    if memory_mb > 0:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from aizoomdoc.documents.ocr import OcrEngine

    engine = OcrEngine(options)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            result = engine.recognise_page(*request)
            conn.send(("ok", result.to_dict()))
        except MemoryError:
            conn.send(("error", "memory", ""))
            return  # the heap may be in any state: the parent starts a new child
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
            conn.send(("error", "error", f"{type(exc).__name__}: {exc}"[:300]))


class OcrProcess:
    """One child process recognising one page at a time (thread-safe: calls take turns)."""

    def __init__(self, options: OcrOptions, *, timeout: float = 600.0, memory_mb: int = 4096, nice: int = 10) -> None:
        self.options = options
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.nice = nice
        self._proc: Any = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def _start(self) -> Connection:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            return self._conn
        self._stop()
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child, self.options, self.memory_mb, self.nice), daemon=True,
                                 name="aizoomdoc-ocr")
        self._proc.start()
        child.close()
        self._conn = parent
        return parent

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
            self._proc = None

    def recognise(self, path: str, page_index: int, source_format: str, width: float, height: float) -> dict[str, Any]:
        """The :class:`~aizoomdoc.documents.ocr.PageOcr` dict of one page; raises :class:`OcrFailed`."""
        with self._lock:
            conn = self._start()
            try:
                conn.send((path, page_index, source_format, width, height))
                if not conn.poll(self.timeout):
                    log.warning("OCR of page %d of %s took over %.0fs: stopped", page_index + 1, path, self.timeout)
                    self._stop()
                    raise OcrFailed("timeout", f"{self.timeout:g}")
                answer = conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                self._stop()  # the child died (out of memory, killed): a new one next time
                raise OcrFailed("memory", type(exc).__name__) from None
            if answer[0] == "ok":
                return answer[1]
            if answer[1] == "memory":
                self._stop()
            raise OcrFailed(answer[1], answer[2])

    async def recognise_async(self, path: str, page_index: int, source_format: str, width: float,
                              height: float) -> dict[str, Any]:
        return await asyncio.to_thread(self.recognise, path, page_index, source_format, width, height)

    def close(self) -> None:
        """Stop the child: politely when idle; killed when a page is still being read (shutting
        down does not wait up to ``timeout`` for it)."""
        if not self._lock.acquire(blocking=False):
            proc = self._proc
            if proc is not None and proc.is_alive():
                proc.kill()
            return
        try:
            if self._conn is not None and self._proc is not None and self._proc.is_alive():
                try:
                    self._conn.send(None)
                    self._proc.join(2)
                except (OSError, BrokenPipeError):
                    pass
            self._stop()
        finally:
            self._lock.release()


class OcrPool:
    """N :class:`OcrProcess` children; a page takes whichever is free."""

    def __init__(self, options: OcrOptions, size: int, *, timeout: float = 600.0, memory_mb: int = 4096,
                 nice: int = 10) -> None:
        self.processes = [OcrProcess(options, timeout=timeout, memory_mb=memory_mb, nice=nice)
                          for _ in range(max(size, 1))]
        self._free: asyncio.Queue[OcrProcess] | None = None

    async def recognise(self, path: str, page_index: int, source_format: str, width: float,
                        height: float) -> dict[str, Any]:
        if self._free is None:
            self._free = asyncio.Queue()
            for p in self.processes:
                self._free.put_nowait(p)
        proc = await self._free.get()
        try:
            return await proc.recognise_async(path, page_index, source_format, width, height)
        finally:
            self._free.put_nowait(proc)

    def close(self) -> None:
        for p in self.processes:
            p.close()


__all__ = ["OcrFailed", "OcrPool", "OcrProcess", "background_priority"]
