"""Untrusted CPU work (parsing uploads, rendering pages) in worker processes, bounded in time and memory.

    pool = worker_pool(settings)
    image = await pool.run(render_job, path, 0, box, limits=Limits(seconds=20, memory_mb=2048),
                           on_limit=lambda reason: TooComplexError("zoom.too_complex"))

Why processes: PyMuPDF keeps the GIL for a whole render, so a render in a thread stalls the event
loop (a 1.4 KB PDF of 20,000 long strokes froze every request for 19 s), and a thread cannot be
stopped. A worker process runs one job at a time; the event loop only waits on its pipe.

* **Time**: a job running longer than ``limits.seconds`` gets its process killed (SIGKILL) and the
  caller gets the error ``on_limit("time")`` builds. Cancelling the awaiting task kills it too.
* **Memory**: the worker lowers its own soft ``RLIMIT_AS`` to ``limits.memory_mb`` for the job, so
  an allocation past it fails (``MemoryError`` in Python, an error in MuPDF/Pillow) and the caller
  gets ``on_limit("memory")``. A worker that still holds much memory after a job is replaced.
* **Depth**: ``RecursionError`` (deeply nested JSON) is reported as ``on_limit("recursion")``.
* A worker that dies (a crash in a C library, the kernel's OOM killer) is ``on_limit("crash")``.
* :class:`~aizoomdoc.errors.AizoomdocError` raised by the job arrives with its key and parameters;
  other exceptions arrive as themselves (or as ``RuntimeError`` when they cannot be pickled).

Workers are fresh interpreters (``python -c …``, not ``fork`` of a threaded server, not
``multiprocessing``, which would re-import the caller's main module in every worker) that import
the heavy modules once and are kept warm between jobs; a killed one is replaced in the
background at once. A worker dies with its parent (``PR_SET_PDEATHSIG``). The pool is per process
(each ``uvicorn`` worker has its own); ``WORKER_PROCESSES`` jobs run at once, more wait for a free
worker (the wait counts toward nobody's time limit).

This bounds availability (time, memory), it is not a sandbox: a worker runs as the same OS user.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from aizoomdoc.errors import AizoomdocError

log = logging.getLogger(__name__)

Reason = Literal["time", "memory", "recursion", "crash"]

#: Modules a worker imports before it reports ready (the jobs' own modules).
PRELOAD = ("aizoomdoc.zoom.isolated", "aizoomdoc.documents.isolated")
#: Seconds a new worker may take to start (import PyMuPDF, Pillow, NumPy) on a busy machine.
STARTUP_SECONDS = 60.0
_BOOT = "import sys; from aizoomdoc.isolation import serve; serve(int(sys.argv[1]))"
#: A worker is replaced after this many jobs (slow leaks in C libraries stay bounded).
MAX_JOBS_PER_WORKER = 500
#: ...and when its resident memory after a job exceeds this share of the job's memory limit.
RECYCLE_RSS_SHARE = 0.5
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_mb: int


# --- the worker process ----------------------------------------------------------------------


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _set_memory_limit(limit_bytes: int | None) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if limit_bytes is None:
        soft = hard
    else:
        soft = limit_bytes if hard == resource.RLIM_INFINITY else min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _is_memory_failure(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return any(s in text for s in ("malloc", "out of memory", "cannot allocate", "memory allocation"))


def _reply(exc: BaseException) -> tuple[str, Any]:
    if isinstance(exc, AizoomdocError):
        return "aizoomdoc", (type(exc), exc.key, exc.params, exc.status_code)
    if isinstance(exc, RecursionError):
        return "limit", "recursion"
    if _is_memory_failure(exc):
        return "limit", "memory"
    try:
        pickle.dumps(exc)
        return "error", exc
    except Exception:  # noqa: BLE001 - whatever it was, say so in one line
        return "error", RuntimeError(f"{type(exc).__name__}: {exc}"[:500])


def _die_with_parent() -> None:
    # Linux sends the signal when the *thread* that started us ends: workers are started from the
    # pool's own threads, which live as long as the pool (the whole server process).
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: a job never outlives the server
    except Exception:  # noqa: BLE001 - not Linux: the worker still exits at its next recv
        pass


def serve(fd: int) -> None:
    """A worker's main loop: receive ``(fn, args, kwargs, memory_bytes, cwd)``, reply, repeat.

    Each job runs in the caller's current directory, so relative paths mean the same as there."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the server; it stops us
    conn = Connection(fd)
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if message is None:
            return
        fn, args, kwargs, memory, cwd = message
        try:
            if cwd and cwd != os.getcwd():
                os.chdir(cwd)
            _set_memory_limit(memory)
            try:
                value = fn(*args, **kwargs)
            finally:
                _set_memory_limit(None)
            reply: tuple[str, Any] = ("ok", value)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            _set_memory_limit(None)
            reply = _reply(exc)
        try:
            conn.send((*reply, _rss_bytes()))
        except Exception as exc:  # noqa: BLE001 - an unpicklable result
            conn.send(("error", RuntimeError(f"result not sendable: {type(exc).__name__}"), _rss_bytes()))


# --- the parent side ---------------------------------------------------------------------------


def _worker_env() -> dict[str, str]:
    """The parent's environment, with its import path: a job is any module-level function the
    parent can import (pickled by name)."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])  # the folder holding ``aizoomdoc``
    paths = [package_root, os.getcwd(), *(p for p in sys.path if p and os.path.isdir(p))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


class _Worker:
    """One worker process and our end of its socket (blocking calls: run them in a thread)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(theirs.fileno())], pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL, env=_worker_env(), close_fds=True)
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.jobs = 0
        try:
            ready = self.conn.poll(STARTUP_SECONDS) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise RuntimeError("a worker process did not start")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(10)
        except Exception:  # noqa: BLE001 - already gone
            pass
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self) -> None:
        """Ask an idle worker to exit; kill it if it does not."""
        try:
            self.conn.send(None)
            self.proc.wait(2)
        except Exception:  # noqa: BLE001
            pass
        self.kill()


_TIMEOUT = object()


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the directory was deleted
        return None


class WorkerPool:
    """A few warm worker processes running one job each (see the module docstring)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0
        self._lock = threading.Lock()
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
            weakref.WeakKeyDictionary()
        # Threads that only wait on sockets and start workers — never the default executor: a
        # long render must not delay anything else that runs in a thread (/api/status's checks).
        self._threads = ThreadPoolExecutor(max_workers=self.size + 2, thread_name_prefix="aizoomdoc-pool")
        self.started = 0
        self.killed = 0
        self.closed = False

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        sem = self._slots.get(loop)
        if sem is None:
            sem = self._slots[loop] = asyncio.Semaphore(self.size)
        return sem

    def _start(self) -> _Worker:
        """A new worker (blocking while it starts), counted while starting."""
        with self._lock:
            self._starting += 1
            self.started += 1
        try:
            return _Worker()
        finally:
            with self._lock:
                self._starting -= 1

    def _checkout(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    self._busy.add(worker)
                    return worker
                worker.kill()
        worker = self._start()
        with self._lock:
            self._busy.add(worker)
        return worker

    def _checkin(self, worker: _Worker, keep: bool) -> None:
        """Back to the idle list, or stopped (``keep=False``: it holds too much memory; or the
        pool already has enough workers)."""
        with self._lock:
            self._busy.discard(worker)
            keep = (keep and not self.closed and worker.jobs < MAX_JOBS_PER_WORKER and worker.alive
                    and len(self._idle) + len(self._busy) < self.size)
            if keep:
                self._idle.append(worker)
        if not keep:
            self._threads.submit(worker.stop)
            self.warm_in_background()

    def _discard(self, worker: _Worker) -> None:
        """Kill a worker that is stuck or dying (blocking: a thread); a replacement starts in
        the background, so the next job finds a warm worker."""
        with self._lock:
            self._busy.discard(worker)
            self.killed += 1
        worker.kill()
        self.warm_in_background()

    def warm(self) -> None:
        """Start idle workers up to the pool size now (blocking: call it in a thread)."""
        while not self.closed:
            with self._lock:
                if len(self._idle) + len(self._busy) + self._starting >= self.size:
                    return
            try:
                worker = self._start()
            except Exception:  # noqa: BLE001 - the next job tries again and reports it
                log.warning("could not start a worker process", exc_info=True)
                return
            with self._lock:
                if not self.closed:
                    self._idle.append(worker)
                    continue
            worker.stop()

    def warm_in_background(self) -> None:
        if not self.closed:
            try:
                self._threads.submit(self.warm)
            except RuntimeError:  # shut down meanwhile
                pass

    @staticmethod
    def _exchange(worker: _Worker, message: tuple[Any, ...], seconds: float) -> Any:
        worker.conn.send(message)
        if not worker.conn.poll(seconds):
            return _TIMEOUT
        return worker.conn.recv()

    async def run(self, fn: Callable[..., Any], *args: Any, limits: Limits,
                  on_limit: Callable[[Reason], AizoomdocError], **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in a worker process within ``limits``; its result."""
        if self.closed:
            raise RuntimeError("the worker pool is closed")
        loop = asyncio.get_running_loop()
        memory = int(limits.memory_mb) * 1024 * 1024
        name = getattr(fn, "__name__", str(fn))
        async with self._slot():
            checkout = loop.run_in_executor(self._threads, self._checkout)
            try:
                worker = await asyncio.shield(checkout)
            except asyncio.CancelledError:  # the worker still arrives: back to the idle list
                checkout.add_done_callback(
                    lambda f: None if f.cancelled() or f.exception() else self._checkin(f.result(), True))
                raise
            started = time.monotonic()
            try:
                reply = await loop.run_in_executor(self._threads, self._exchange, worker,
                                                   (fn, args, kwargs, memory, _cwd()), limits.seconds)
            except asyncio.CancelledError:
                worker.proc.kill()  # the thread waiting on the socket sees EOF and ends
                self._threads.submit(self._discard, worker)
                raise
            except (EOFError, OSError):
                await loop.run_in_executor(self._threads, self._discard, worker)
                log.warning("a worker process died running %s", name)
                raise on_limit("crash") from None
            if reply is _TIMEOUT:
                await loop.run_in_executor(self._threads, self._discard, worker)
                log.warning("stopped a worker after %.1fs running %s", time.monotonic() - started, name)
                raise on_limit("time")
            kind, value, rss = reply
            worker.jobs += 1
            self._checkin(worker, keep=rss <= memory * RECYCLE_RSS_SHARE)
        if kind == "ok":
            return value
        if kind == "aizoomdoc":
            cls, key, params, status = value
            err = cls.__new__(cls)
            AizoomdocError.__init__(err, key, **params)
            err.status_code = status
            raise err
        if kind == "limit":
            raise on_limit(value)
        raise value

    def close(self) -> None:
        """Stop every worker (idle ones politely, busy ones killed)."""
        self.closed = True
        with self._lock:
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.stop()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def pids(self) -> list[int]:
        """Process ids of the live workers (for measurements)."""
        with self._lock:
            return [w.proc.pid for w in [*self._idle, *self._busy] if w.alive]


_pools: dict[int, WorkerPool] = {}
_pools_lock = threading.Lock()


def worker_pool(settings: Any) -> WorkerPool:
    """This process's pool of ``settings.worker_processes`` workers (created on first use)."""
    size = int(getattr(settings, "worker_processes", 2))
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None or pool.closed:
            pool = _pools[size] = WorkerPool(size)
        return pool


def close_pools() -> None:
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


atexit.register(close_pools)


__all__ = ["Limits", "Reason", "WorkerPool", "close_pools", "serve", "worker_pool"]
