"""The link to one cloud service (PostgreSQL or S3): online, or offline with a background probe.

A write that finds the service unreachable calls :meth:`Link.went_offline`; from then on the store
does not touch the service (no retry storm) and a background task probes it with exponential
backoff (``SYNC_PROBE_INITIAL`` … ``SYNC_PROBE_MAX`` seconds, jittered). When the probe answers,
``on_back`` (a sync of the journal) runs, and when it succeeds the link is online again.
:meth:`Link.kick` runs ``on_back`` in the background while online (entries waiting in the journal).
Used by :class:`~aizoomdoc.store.resilient.ResilientChatStore` and
:class:`~aizoomdoc.store.files.resilient.ResilientFileStorage`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from aizoomdoc.config import Settings

log = logging.getLogger(__name__)


class Link:
    """The state of one cloud service. ``went_offline`` starts a probe with exponential backoff;
    when ``check`` succeeds, ``on_back`` (a sync) runs and, if it reports success, the link is
    online again. ``kick`` runs ``on_back`` in the background while online (pending entries)."""

    def __init__(self, name: str, check: Callable[[], Awaitable[bool]], on_back: Callable[[], Awaitable[bool]],
                 settings: Settings) -> None:
        self.name = name
        self._check = check
        self._on_back = on_back
        self.settings = settings
        self.online = True
        self.since: float | None = None
        self.last_error: str | None = None
        self.probes = 0
        self._probe_task: asyncio.Task[None] | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._again = False

    def went_offline(self, exc: BaseException) -> None:
        self.last_error = getattr(exc, "key", type(exc).__name__)
        if self.online:
            self.online = False
            self.since = time.time()
            log.warning("%s unavailable (%s): working offline, writes go to the local journal",
                        self.name, self.last_error)
        self._start_probe()

    def _start_probe(self) -> None:
        if not self.settings.sync_auto:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._probe_task is None or self._probe_task.done() or self._probe_task.get_loop() is not loop:
            self._probe_task = loop.create_task(self._probe(), name=f"aizoomdoc-{self.name}-probe")

    async def _probe(self) -> None:
        delay = self.settings.sync_probe_initial
        while not self.online:
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            self.probes += 1
            try:
                ok = await self._check()
            except Exception:  # noqa: BLE001 - the probe loop must outlive any check; logged
                log.debug("%s: probe failed", self.name, exc_info=True)
                ok = False
            if ok:
                try:
                    back = await self._on_back()
                except Exception:  # noqa: BLE001 - the probe loop must outlive a failed sync; logged
                    log.warning("%s: sync after reconnect failed", self.name, exc_info=True)
                    back = False
                if back:
                    self.mark_online()
                    return
            delay = min(delay * 2, self.settings.sync_probe_max)

    def mark_online(self) -> None:
        """The service answered and the journal is synced: back online."""
        if not self.online:
            self.online = True
            self.since = time.time()
            log.info("%s reachable again: back online", self.name)
        self.last_error = None

    def kick(self) -> None:
        """Sync in the background soon (online, with entries waiting)."""
        if not self.settings.sync_auto or not self.online:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._sync_task is not None and not self._sync_task.done() and self._sync_task.get_loop() is loop:
            self._again = True
            return
        self._sync_task = loop.create_task(self._background_sync(), name=f"aizoomdoc-{self.name}-sync")

    async def _background_sync(self) -> None:
        while True:
            self._again = False
            try:
                ok = await self._on_back()
            except Exception:  # noqa: BLE001 - a background task: a failed sync is logged, retried later
                log.warning("%s: background sync failed", self.name, exc_info=True)
                ok = False
            if not self.online:
                return
            if not ok:
                await asyncio.sleep(self.settings.sync_interval)
                self._again = True
            if not self._again:
                return

    async def aclose(self) -> None:
        for task in (self._probe_task, self._sync_task):
            if task is not None and not task.done():
                try:
                    if task.get_loop() is asyncio.get_running_loop():
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
                except RuntimeError:
                    pass
        self._probe_task = self._sync_task = None


__all__ = ["Link"]
