"""A shared bytes cache: an in-process LRU, plus Redis when ``REDIS_URL`` is set.

What it holds is derived data only (rendered crops, saved search indexes): never the only copy of
anything, so every failure here is a miss, never an error. The pipeline puts its own layers on top
(``pipeline/render_cache.py``, ``pipeline/index_share.py``); this module knows nothing of them.

* :class:`MemoryCache` — LRU by bytes (``CACHE_MEMORY_MB``) with a TTL, thread-safe, per process.
* :class:`RedisCache` — entries under ``{CACHE_PREFIX}{namespace}:{key}`` with a TTL
  (``CACHE_TTL_SECONDS``, counted from the last use); the total size of *our* entries is capped (``CACHE_REDIS_MB``) by a
  small Lua script that keeps an index (sorted set by last use) and evicts the least recently used
  entries, so a Redis shared with other software (a job queue) is never filled by renders.
* :class:`SharedCache` — both: memory first, then Redis (a Redis hit is copied into memory). Redis
  calls have short timeouts (``CACHE_REDIS_TIMEOUT``); after a failure Redis is skipped for a
  while (1 s, doubling up to 30 s) so a stopped Redis costs one failed call, not one per lookup.

:func:`shared_cache` returns the process-wide cache for some settings (all services of a worker
share one memory LRU and one Redis pool).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aizoomdoc.config import Settings

log = logging.getLogger(__name__)

#: Longest pause between two attempts to use a Redis that failed, seconds.
REDIS_BACKOFF_MAX = 30.0

# The index orders entries by last use: the score is the time in ms times 1000 plus a per-Redis
# sequence (KEYS[5]) modulo 1000, so uses within the same millisecond keep their order.
# KEYS: entry, index (zset: key -> last use), sizes (hash: key -> bytes), total (counter), sequence.
# ARGV: value, ttl ms, now ms, cap bytes. Sets the entry, forgets index entries older than the TTL
# (Redis expired them), then evicts the least recently used entries until the total fits the cap.
_PUT_SCRIPT = """
local size = string.len(ARGV[1])
local ttl = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
local old = redis.call('HGET', KEYS[3], KEYS[1])
if old then redis.call('DECRBY', KEYS[4], old) end
redis.call('HSET', KEYS[3], KEYS[1], size)
redis.call('INCRBY', KEYS[4], size)
redis.call('ZADD', KEYS[2], now * 1000 + redis.call('INCR', KEYS[5]) % 1000, KEYS[1])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', (now - ttl) * 1000)
for _, k in ipairs(stale) do
  local s = tonumber(redis.call('HGET', KEYS[3], k) or '0')
  redis.call('HDEL', KEYS[3], k)
  redis.call('ZREM', KEYS[2], k)
  redis.call('DECRBY', KEYS[4], s)
end
local total = tonumber(redis.call('GET', KEYS[4]) or '0')
local evicted = 0
while total > cap do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local k = oldest[1]
  local s = tonumber(redis.call('HGET', KEYS[3], k) or '0')
  redis.call('HDEL', KEYS[3], k)
  redis.call('DEL', k)
  total = redis.call('DECRBY', KEYS[4], s)
  evicted = evicted + 1
end
return evicted
"""

# KEYS: entry, index, sequence. ARGV: ttl ms, now ms. The value, its TTL renewed and its use noted.
_GET_SCRIPT = """
local value = redis.call('GET', KEYS[1])
if value then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
  redis.call('ZADD', KEYS[2], 'XX', tonumber(ARGV[2]) * 1000 + redis.call('INCR', KEYS[3]) % 1000, KEYS[1])
end
return value
"""


@dataclass
class CacheCounters:
    """Lookups of one namespace in this process."""

    memory_hits: int = 0
    redis_hits: int = 0
    misses: int = 0
    puts: int = 0
    errors: int = 0

    @property
    def hits(self) -> int:
        return self.memory_hits + self.redis_hits

    def to_dict(self) -> dict[str, Any]:
        total = self.hits + self.misses
        return {"hits": self.hits, "memory_hits": self.memory_hits, "redis_hits": self.redis_hits,
                "misses": self.misses, "puts": self.puts, "errors": self.errors,
                "hit_rate": round(self.hits / total, 4) if total else None}


class MemoryCache:
    """An LRU of byte strings capped by their total size, each entry living at most ``ttl`` s."""

    def __init__(self, max_bytes: int, ttl: float) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self.ttl = ttl
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, data = item
            if expires <= now:
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return  # larger than the whole cache: keep what is there
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (time.monotonic() + self.ttl, data)
            self._bytes += len(data)
            while self._bytes > self.max_bytes and self._items:
                self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        _, data = self._items.pop(key)
        self._bytes -= len(data)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def redis_errors() -> tuple[type[BaseException], ...]:
    """What a Redis call raises when Redis is not usable: the client's errors, the socket's, and a
    malformed REDIS_URL (``ValueError`` from the client's URL parser). Imported on use, like the client."""
    from redis.exceptions import RedisError

    return (RedisError, OSError, ValueError)


class RedisCache:
    """Our entries in a (possibly shared) Redis, with a TTL and a cap on their total size.

    Methods raise on any Redis problem; :class:`SharedCache` turns that into a miss. The client
    belongs to the event loop that created it and is re-created on another loop.
    """

    def __init__(self, url: str, *, prefix: str, max_bytes: int, ttl: float, timeout: float) -> None:
        self.url = url
        self.prefix = prefix
        self.max_bytes = int(max_bytes)
        self.ttl_ms = max(1, int(ttl * 1000))
        self.timeout = timeout
        self._client: Any = None
        self._script: Any = None
        self._get_script: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def target(self) -> str:
        """Where Redis is, for messages: host:port/db, never a password."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"{parts.hostname or '?'}:{parts.port or 6379}{parts.path or ''}"

    def _key(self, namespace: str, key: str) -> str:
        return f"{self.prefix}{namespace}:{key}"

    def _meta(self) -> list[str]:
        return [f"{self.prefix}meta:index", f"{self.prefix}meta:sizes", f"{self.prefix}meta:total",
                f"{self.prefix}meta:seq"]

    def _redis(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._client = aioredis.from_url(
                self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0), retry_on_timeout=False, health_check_interval=0,
            )
            self._script = self._client.register_script(_PUT_SCRIPT)
            self._get_script = self._client.register_script(_GET_SCRIPT)
            self._loop = loop
        return self._client

    async def get(self, namespace: str, key: str) -> bytes | None:
        self._redis()
        full = self._key(namespace, key)
        meta = self._meta()
        # The TTL counts from the last use, like the index.
        value = await self._get_script(keys=[full, meta[0], meta[3]], args=[self.ttl_ms, int(time.time() * 1000)])
        return bytes(value) if value is not None else None

    async def put(self, namespace: str, key: str, data: bytes) -> int:
        """Store ``data``; the number of older entries evicted to stay under the cap."""
        if len(data) > self.max_bytes:
            return 0
        self._redis()
        full = self._key(namespace, key)
        return int(await self._script(keys=[full, *self._meta()],
                                      args=[data, self.ttl_ms, int(time.time() * 1000), self.max_bytes]))

    async def total_bytes(self) -> int:
        value = await self._redis().get(self._meta()[2])
        return int(value or 0)

    async def ping(self) -> bool:
        return bool(await self._redis().ping())

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except redis_errors():  # closing a dead connection
                log.debug("closing the Redis client failed", exc_info=True)


@dataclass
class _Breaker:
    """Skips Redis for a while after a failure (1 s, doubling up to :data:`REDIS_BACKOFF_MAX`)."""

    until: float = 0.0
    pause: float = 0.0
    warned: bool = False

    def open(self) -> bool:
        return time.monotonic() < self.until

    def failed(self) -> None:
        self.pause = min(REDIS_BACKOFF_MAX, max(1.0, self.pause * 2))
        self.until = time.monotonic() + self.pause

    def ok(self) -> None:
        self.pause, self.until, self.warned = 0.0, 0.0, False


@dataclass
class SharedCache:
    """Memory first, then Redis (when configured). Never raises: a failure is a miss."""

    memory: MemoryCache
    redis: RedisCache | None = None
    counters: dict[str, CacheCounters] = field(default_factory=dict)
    _breaker: _Breaker = field(default_factory=_Breaker)

    @classmethod
    def from_settings(cls, settings: Settings) -> SharedCache:
        memory = MemoryCache(int(settings.cache_memory_mb * 1024 * 1024), settings.cache_ttl_seconds)
        redis = None
        url = settings.secret("redis_url")
        if url:
            redis = RedisCache(url, prefix=settings.cache_prefix,
                               max_bytes=int(settings.cache_redis_mb * 1024 * 1024),
                               ttl=settings.cache_ttl_seconds, timeout=settings.cache_redis_timeout)
        return cls(memory, redis)

    def counter(self, namespace: str) -> CacheCounters:
        c = self.counters.get(namespace)
        if c is None:
            c = self.counters[namespace] = CacheCounters()
        return c

    @property
    def redis_available(self) -> bool:
        return self.redis is not None and not self._breaker.open()

    async def get(self, namespace: str, key: str, *, memory: bool = True) -> bytes | None:
        """The bytes under ``key`` or None. ``memory=False``: Redis only (for values the caller
        keeps in a form of its own, e.g. loaded search indexes)."""
        c = self.counter(namespace)
        mkey = f"{namespace}:{key}"
        data = self.memory.get(mkey) if memory else None
        if data is not None:
            c.memory_hits += 1
            return data
        if self.redis_available:
            try:
                data = await self.redis.get(namespace, key)  # type: ignore[union-attr]
            except redis_errors() as exc:  # a cache failure is a miss
                self._redis_failed(c, exc)
            else:
                self._breaker.ok()
                if data is not None:
                    c.redis_hits += 1
                    if memory:
                        self.memory.put(mkey, data)
                    return data
        c.misses += 1
        return None

    async def put(self, namespace: str, key: str, data: bytes, *, memory: bool = True) -> None:
        c = self.counter(namespace)
        c.puts += 1
        if memory:
            self.memory.put(f"{namespace}:{key}", data)
        if self.redis_available:
            try:
                await self.redis.put(namespace, key, data)  # type: ignore[union-attr]
            except redis_errors() as exc:  # a cache failure loses nothing
                self._redis_failed(c, exc)
            else:
                self._breaker.ok()

    def _redis_failed(self, c: CacheCounters, exc: BaseException) -> None:
        c.errors += 1
        self._breaker.failed()
        level = logging.DEBUG if self._breaker.warned else logging.WARNING
        self._breaker.warned = True
        log.log(level, "Redis cache at %s is unavailable (%s); using the in-process cache for %.0f s",
                self.redis.target if self.redis else "?", type(exc).__name__, self._breaker.pause)

    def stats(self) -> dict[str, Any]:
        return {"memory_bytes": self.memory.size, "memory_entries": len(self.memory),
                "redis": self.redis.target if self.redis else None,
                "redis_available": self.redis_available if self.redis else None,
                **{ns: c.to_dict() for ns, c in self.counters.items()}}

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


_caches: dict[tuple[Any, ...], SharedCache] = {}
_lock = threading.Lock()


def shared_cache(settings: Settings) -> SharedCache | None:
    """The process-wide cache for ``settings`` (None when ``CACHE_ENABLED=false``)."""
    if not settings.cache_enabled:
        return None
    key = (settings.secret("redis_url"), settings.cache_prefix, settings.cache_memory_mb,
           settings.cache_redis_mb, settings.cache_ttl_seconds, settings.cache_redis_timeout)
    with _lock:
        cache = _caches.get(key)
        if cache is None:
            cache = _caches[key] = SharedCache.from_settings(settings)
        return cache


__all__ = ["CacheCounters", "MemoryCache", "RedisCache", "SharedCache", "redis_errors", "shared_cache"]
