"""S3-compatible backend (cloud.ru, SeaweedFS, MinIO, AWS) on aioboto3.

Configuration (all from :class:`~aizoomdoc.config.Settings`):

* ``S3_ENDPOINT_URL`` (cloud.ru: ``https://s3.cloud.ru``; unset = AWS), ``S3_REGION`` (cloud.ru:
  ``ru-central-1``), ``S3_ACCESS_KEY`` (cloud.ru: ``<tenant_id>:<key_id>``), ``S3_SECRET_KEY``,
  ``S3_BUCKET``, ``S3_ADDRESSING_STYLE`` (``path`` by default — S3-compatible stores want it set
  explicitly).
* botocore ≥ 1.36 adds CRC checksums to every request by default, which many S3-compatible stores
  reject; both checksum settings are ``when_required`` here. DeleteObjects also gets a
  ``Content-MD5`` header, which older compatible stores insist on.
* ``S3_CONNECT_TIMEOUT`` / ``S3_READ_TIMEOUT`` / ``S3_MAX_ATTEMPTS`` make an unreachable endpoint
  fail in seconds.
* One aiobotocore client per event loop, created on first use and reused (creating a client per
  call costs tens of milliseconds); :meth:`S3FileStorage.aclose` releases it. A client nobody
  closed (the seed facade's callers never call ``aclose``) is closed when ``asyncio.run`` shuts
  its loop down, so no «Unclosed client session / connector» is printed at exit.
* Files above ``S3_MULTIPART_THRESHOLD_MB`` go up as a multipart upload of
  ``S3_MULTIPART_CHUNK_MB`` parts, ``S3_MAX_CONCURRENCY`` parts at a time (aborted on failure).
* ``get_signed_url`` presigns with a synchronous botocore client built once — pure computation, no
  network. ``is_connected`` does a real ``HeadBucket`` with short timeouts on that sync client.

Record URLs (what uploads return) are the plain object URLs (``{endpoint}/{bucket}/{key}`` for
path style); a private bucket serves them only through :meth:`get_signed_url`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import math
import os
import re
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aioboto3
import botocore.session
from aiobotocore.config import AioConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from aizoomdoc.config import Settings
from aizoomdoc.errors import (
    AizoomdocError,
    ConfigError,
    NotFoundError,
    StorageError,
    StorageUnavailableError,
)
from aizoomdoc.store.files.base import (
    FileMetadata,
    FileStorage,
    PathLike,
    decode_metadata_value,
    encode_metadata_value,
)
from aizoomdoc.store.files.paths import folder_prefix, validate_key, validate_prefix
from aizoomdoc.store.files.signing import check_expires_in
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

MB = 1024 * 1024
#: S3 allows at most this many keys per DeleteObjects and parts per multipart upload.
DELETE_BATCH = 1000
MAX_PARTS = 10_000
MAX_PARTS_IN_FLIGHT = 8
_DOWNLOAD_CHUNK = MB
#: What botocore accepts as a bucket name (S3 itself wants 3–63 lowercase letters, digits, «.», «-»)
#: and as a region.
_BUCKET_NAME = re.compile(r"[a-zA-Z0-9.\-_]{1,255}")
_REGION_NAME = re.compile(r"[a-zA-Z0-9\-_]{1,63}")

CREDENTIAL_CODES = frozenset({
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "InvalidSecurity",
    "AuthorizationHeaderMalformed", "InvalidClientTokenId", "UnrecognizedClientException",
})
DENIED_CODES = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled"})
MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError,
    asyncio.TimeoutError, ConnectionError,
)
try:  # aiohttp's connection errors surface when they escape botocore's wrapping
    import aiohttp

    _NETWORK_ERRORS = (*_NETWORK_ERRORS, aiohttp.ClientConnectionError)
except ImportError:  # pragma: no cover - aiobotocore depends on aiohttp
    pass
#: What a call through botocore raises on an S3 problem: :meth:`S3FileStorage._error` maps each.
_S3_ERRORS: tuple[type[BaseException], ...] = (ClientError, BotoCoreError, *_NETWORK_ERRORS)
#: ... and what building the client raises too (S3 not configured, a malformed endpoint).
_CHECK_ERRORS: tuple[type[BaseException], ...] = (*_S3_ERRORS, AizoomdocError, ValueError)


def _add_content_md5(params: dict[str, Any], **_: Any) -> None:
    """DeleteObjects: send Content-MD5 as well (stores predating flexible checksums need it)."""
    body = params.get("body")
    headers = params.setdefault("headers", {})
    if isinstance(body, (bytes, bytearray)) and "Content-MD5" not in headers:
        digest = hashlib.md5(body, usedforsecurity=False).digest()
        headers["Content-MD5"] = base64.b64encode(digest).decode("ascii")


def _read_range(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(length)


class S3FileStorage(FileStorage):
    backend = "s3"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        missing = [
            name for name, value in (
                ("S3_BUCKET", settings.s3_bucket),
                ("S3_ACCESS_KEY", settings.secret("s3_access_key")),
                ("S3_SECRET_KEY", settings.secret("s3_secret_key")),
            ) if not value
        ]
        if missing:
            raise ConfigError("files.s3.not_configured", names=", ".join(missing))
        self.bucket: str = settings.s3_bucket  # type: ignore[assignment]
        if not _BUCKET_NAME.fullmatch(self.bucket):  # botocore refuses it with a multi-line message
            raise ConfigError("files.s3.bad_bucket", bucket=self.bucket[:80])
        self.endpoint_url: str | None = (settings.s3_endpoint_url or "").strip().rstrip("/") or None
        if self.endpoint_url is not None:
            parts = urlsplit(self.endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:  # botocore: ValueError
                raise ConfigError("files.s3.bad_endpoint", endpoint=self.endpoint_url.split("@")[-1][:120])
        if not _REGION_NAME.fullmatch(settings.s3_region or ""):
            raise ConfigError("files.s3.bad_region", region=(settings.s3_region or "")[:60])
        self.region = settings.s3_region
        self._session = aioboto3.Session()
        self._client: Any = None
        self._client_cm: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._loop_guard: Any = None
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._sync_client: Any = None
        self._sync_lock = threading.Lock()

    # --- description ------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """The endpoint for messages (never contains credentials)."""
        return self.endpoint_url or f"https://s3.{self.region}.amazonaws.com"

    @property
    def location(self) -> str:
        return f"s3://{self.bucket} @ {self.endpoint}"

    def url_for(self, s3_key: str) -> str:
        key = quote(validate_key(s3_key), safe="/")
        if self.endpoint_url is None:
            return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{key}"
        if self.settings.s3_addressing_style == "virtual":
            parts = urlsplit(self.endpoint_url)
            return f"{parts.scheme}://{self.bucket}.{parts.netloc}{parts.path}/{key}"
        return f"{self.endpoint_url}/{self.bucket}/{key}"

    # --- clients ------------------------------------------------------------------------------------
    def _config_kwargs(self) -> dict[str, Any]:
        s = self.settings
        return dict(
            region_name=s.s3_region,
            signature_version="s3v4",
            s3={"addressing_style": s.s3_addressing_style},
            connect_timeout=s.s3_connect_timeout,
            read_timeout=s.s3_read_timeout,
            retries={"max_attempts": s.s3_max_attempts, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=max(64, s.s3_max_concurrency * 2),
        )

    def _client_kwargs(self) -> dict[str, Any]:
        return dict(
            endpoint_url=self.endpoint_url,
            region_name=self.settings.s3_region,
            aws_access_key_id=self.settings.secret("s3_access_key"),
            aws_secret_access_key=self.settings.secret("s3_secret_key"),
        )

    async def _get_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is not None and self._client_loop is loop:
            return self._client
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        async with lock:
            if self._client is not None and self._client_loop is loop:
                return self._client
            if self._client is not None:
                # Used from a new event loop (e.g. a second asyncio.run): the old client's
                # connections belong to a loop that is gone; start afresh.
                log.debug("S3 client re-created for a new event loop")
            cm = self._session.client("s3", config=AioConfig(**self._config_kwargs()), **self._client_kwargs())
            client = await cm.__aenter__()
            client.meta.events.register("before-call.s3.DeleteObjects", _add_content_md5)
            self._client_cm, self._client, self._client_loop = cm, client, loop
            self._loop_guard = self._closed_with_loop(cm)
            await self._loop_guard.__anext__()
            return client

    async def _closed_with_loop(self, cm: Any) -> AsyncIterator[None]:
        """Suspended for as long as the client lives. The loop finalises its async generators
        before it closes (``asyncio.run`` does, via ``shutdown_asyncgens``), and then this closes a
        client its owner never closed, while the loop still runs."""
        try:
            yield
        finally:
            if self._client_cm is cm:
                await self.aclose()

    def _sync(self) -> Any:
        """A synchronous botocore client (presigning and quick checks), built once."""
        if self._sync_client is None:
            with self._sync_lock:
                if self._sync_client is None:
                    kwargs = self._config_kwargs()
                    kwargs.update(
                        connect_timeout=min(self.settings.s3_connect_timeout, 2.0),
                        read_timeout=min(self.settings.s3_read_timeout, 5.0),
                        retries={"max_attempts": 1, "mode": "standard"},
                        max_pool_connections=2,
                    )
                    self._sync_client = botocore.session.get_session().create_client(
                        "s3", config=Config(**kwargs), **self._client_kwargs()
                    )
        return self._sync_client

    async def aclose(self) -> None:
        cm, loop, guard = self._client_cm, self._client_loop, self._loop_guard
        self._client = self._client_cm = self._client_loop = self._loop_guard = None
        if cm is not None and loop is asyncio.get_running_loop():
            try:
                await cm.__aexit__(None, None, None)
            except Exception:  # noqa: BLE001 - closing the client (aiohttp, botocore) is best effort, logged
                log.debug("closing the S3 client failed", exc_info=True)
            if guard is not None and not guard.ag_running:  # (it runs when it called us)
                await guard.aclose()
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None

    # --- errors -------------------------------------------------------------------------------------
    def _error(self, exc: BaseException, action: str, key: str | None = None) -> BaseException:
        """A clear :class:`AizoomdocError` for a botocore/aiohttp failure (no secrets)."""
        if isinstance(exc, AizoomdocError):
            return exc
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {}) or {}
            code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
            if code in CREDENTIAL_CODES:
                return StorageError("files.s3.bad_credentials", endpoint=self.endpoint, code=code)
            if code == "NoSuchBucket":
                return StorageError("files.s3.no_bucket", bucket=self.bucket, endpoint=self.endpoint)
            if code in MISSING_KEY_CODES and key is not None:
                return NotFoundError("files.not_found", file=key)
            if code in MISSING_KEY_CODES:
                return StorageError("files.s3.no_bucket", bucket=self.bucket, endpoint=self.endpoint)
            if code in DENIED_CODES:
                return StorageError("files.s3.access_denied", endpoint=self.endpoint, action=action,
                                    bucket=self.bucket)
            detail = str(err.get("Message") or "")[:200] or t("files.s3.detail.none")
            return StorageError("files.s3.failed", action=action, code=code or "?", detail=detail)
        if isinstance(exc, NoCredentialsError):
            return ConfigError("files.s3.not_configured", names="S3_ACCESS_KEY, S3_SECRET_KEY")
        if isinstance(exc, _NETWORK_ERRORS):
            if isinstance(exc, ConnectTimeoutError):
                detail = t("files.s3.detail.connect_timeout", seconds=f"{self.settings.s3_connect_timeout:g}")
            elif isinstance(exc, (ReadTimeoutError, asyncio.TimeoutError)):
                detail = t("files.s3.detail.read_timeout", seconds=f"{self.settings.s3_read_timeout:g}")
            else:
                detail = t("files.s3.detail.no_connection")
            return StorageUnavailableError("files.s3.unreachable", endpoint=self.endpoint, detail=detail)
        if isinstance(exc, BotoCoreError):
            return StorageError("files.s3.failed", action=action, code=type(exc).__name__,
                                detail=str(exc)[:200])
        return exc

    async def _call(self, operation: str, action: str, key: str | None = None, **params: Any) -> Any:
        client = await self._get_client()
        try:
            return await getattr(client, operation)(Bucket=self.bucket, **params)
        except _S3_ERRORS as exc:
            raise self._error(exc, action, key) from exc

    # --- synchronous API ----------------------------------------------------------------------------
    def get_signed_url(self, s3_key: str, expires_in: int = 3600) -> str:
        key = validate_key(s3_key)
        return self._sync().generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=check_expires_in(expires_in),
        )

    def is_connected(self) -> bool:
        """HeadBucket with short timeouts (works with or without a running event loop)."""
        try:
            self._sync().head_bucket(Bucket=self.bucket)
            return True
        except _CHECK_ERRORS as exc:  # a check answers, never raises
            log.warning("S3 check failed: %s", self._error(exc, "HeadBucket"))
            return False

    # --- uploads ------------------------------------------------------------------------------------
    def _put_params(self, content_type: str, metadata: dict[str, str]) -> dict[str, Any]:
        params: dict[str, Any] = {"ContentType": content_type}
        if metadata:
            params["Metadata"] = {k: encode_metadata_value(v) for k, v in metadata.items()}
        return params

    async def _put_bytes(self, data: bytes, key: str, content_type: str, metadata: dict[str, str]) -> None:
        await self._call("put_object", "PutObject", key, Key=key, Body=data,
                         **self._put_params(content_type, metadata))

    async def _put_file(
        self, path: Path, key: str, content_type: str, metadata: dict[str, str], size: int
    ) -> None:
        if size <= self.settings.s3_multipart_threshold_mb * MB:
            data = await asyncio.to_thread(path.read_bytes)
            await self._put_bytes(data, key, content_type, metadata)
        else:
            await self._multipart(path, key, content_type, metadata, size)

    async def _multipart(
        self, path: Path, key: str, content_type: str, metadata: dict[str, str], size: int
    ) -> None:
        chunk = max(int(self.settings.s3_multipart_chunk_mb * MB), math.ceil(size / MAX_PARTS))
        count = math.ceil(size / chunk)
        created = await self._call("create_multipart_upload", "CreateMultipartUpload", key, Key=key,
                                   **self._put_params(content_type, metadata))
        upload_id = created["UploadId"]
        # Parts in flight: memory is about parts × chunk, so cap it (8 × 5 MB = 40 MB by default).
        semaphore = asyncio.Semaphore(min(self.settings.s3_max_concurrency, MAX_PARTS_IN_FLIGHT))

        async def part(number: int) -> dict[str, Any]:
            async with semaphore:  # read only when a slot is free: memory ≈ concurrency × chunk
                body = await asyncio.to_thread(_read_range, path, (number - 1) * chunk, chunk)
                answer = await self._call("upload_part", "UploadPart", key, Key=key, UploadId=upload_id,
                                          PartNumber=number, Body=body)
                return {"ETag": answer["ETag"], "PartNumber": number}

        try:
            try:
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(part(n)) for n in range(1, count + 1)]
            except BaseExceptionGroup as eg:
                raise eg.exceptions[0] from None
            await self._call("complete_multipart_upload", "CompleteMultipartUpload", key, Key=key,
                             UploadId=upload_id,
                             MultipartUpload={"Parts": [t.result() for t in tasks]})
        except BaseException:
            try:
                await asyncio.shield(self._call("abort_multipart_upload", "AbortMultipartUpload", key,
                                                Key=key, UploadId=upload_id))
            except AizoomdocError:  # the original error matters more
                log.warning("could not abort multipart upload of %s", key)
            raise
        log.debug("multipart upload of %s: %d parts of %d bytes", key, count, chunk)

    # --- reads --------------------------------------------------------------------------------------
    async def download_file(self, s3_key: str, local_path: PathLike) -> Path:
        key = validate_key(s3_key)
        target = Path(local_path)
        answer = await self._call("get_object", "GetObject", key, Key=key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{uuid.uuid4().hex}.part"
        try:
            body = answer["Body"]
            async with body:
                with open(tmp, "wb") as fh:
                    async for chunk in body.iter_chunks(_DOWNLOAD_CHUNK):
                        fh.write(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            mapped = self._error(exc, "GetObject", key) if isinstance(exc, Exception) else exc
            if mapped is exc:
                raise
            raise mapped from exc
        return target

    async def read_bytes(self, s3_key: str) -> bytes:
        key = validate_key(s3_key)
        answer = await self._call("get_object", "GetObject", key, Key=key)
        try:
            body = answer["Body"]
            async with body:
                return await body.read()
        except _S3_ERRORS as exc:
            raise self._error(exc, "GetObject", key) from exc

    async def file_exists(self, s3_key: str) -> bool:
        key = validate_key(s3_key)
        try:
            await self._call("head_object", "HeadObject", key, Key=key)
            return True
        except NotFoundError:
            return False

    async def get_file_metadata(self, s3_key: str) -> FileMetadata:
        key = validate_key(s3_key)
        head = await self._call("head_object", "HeadObject", key, Key=key)
        return FileMetadata(
            key=key,
            size=int(head.get("ContentLength", 0)),
            content_type=head.get("ContentType") or "application/octet-stream",
            last_modified=head["LastModified"],
            metadata={k.lower(): decode_metadata_value(v) for k, v in (head.get("Metadata") or {}).items()},
        )

    async def list_files(self, prefix: str = "") -> list[str]:
        prefix = validate_prefix(prefix)
        client = await self._get_client()
        keys: list[str] = []
        try:
            paginator = client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix,
                                                 PaginationConfig={"PageSize": 1000}):
                keys.extend(obj["Key"] for obj in page.get("Contents", ()))
        except _S3_ERRORS as exc:
            raise self._error(exc, "ListObjectsV2") from exc
        keys.sort()
        return keys

    # --- deletes ------------------------------------------------------------------------------------
    async def delete_file(self, s3_key: str) -> None:
        key = validate_key(s3_key)
        try:
            await self._call("delete_object", "DeleteObject", key, Key=key)
        except NotFoundError:
            pass

    async def delete_prefix(self, prefix: str) -> int:
        folder = folder_prefix(prefix)
        keys = await self.list_files(folder)
        deleted = 0
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start:start + DELETE_BATCH]
            answer = await self._call(
                "delete_objects", "DeleteObjects",
                Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
            )
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise StorageError("files.s3.failed", action="DeleteObjects",
                                   code=first.get("Code", "?"),
                                   detail=f"{first.get('Key', '')}: {first.get('Message', '')}"[:200])
            deleted += len(batch)
        log.info("deleted %d objects under %s in %s", deleted, folder, self.bucket)
        return deleted

    # --- bucket ---------------------------------------------------------------------------------------
    async def bucket_exists(self) -> bool:
        try:
            await self._call("head_bucket", "HeadBucket")
            return True
        except StorageError as exc:
            if exc.key == "files.s3.no_bucket":
                return False
            raise

    async def init(self) -> bool:
        """Create ``S3_BUCKET``; False when it already exists (nothing changed)."""
        if await self.bucket_exists():
            return False
        client = await self._get_client()
        attempts: list[dict[str, Any]] = [{}]
        if self.region and self.region != "us-east-1":
            attempts.insert(0, {"CreateBucketConfiguration": {"LocationConstraint": self.region}})
        for i, extra in enumerate(attempts):
            try:
                await client.create_bucket(Bucket=self.bucket, **extra)
                log.info("created bucket %s at %s", self.bucket, self.endpoint)
                return True
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code == "BucketAlreadyOwnedByYou":
                    return False
                if i + 1 < len(attempts) and code in (
                    "InvalidLocationConstraint", "IllegalLocationConstraintException", "MalformedXML",
                    "InvalidRequest", "InvalidArgument",
                ):
                    continue  # some compatible stores refuse a location constraint
                mapped = self._error(exc, "CreateBucket")
                if isinstance(mapped, StorageError) and mapped.key == "files.s3.failed":
                    mapped = StorageError("files.s3.bucket_create_failed", bucket=self.bucket, code=code,
                                          detail=str(exc.response.get("Error", {}).get("Message", ""))[:200])
                raise mapped from exc
            except _S3_ERRORS as exc:
                raise self._error(exc, "CreateBucket") from exc
        return True  # pragma: no cover - loop always returns or raises

    async def check(self) -> float:
        """The bucket must exist before the probe file is written: some compatible stores
        (SeaweedFS among them) create a missing bucket on the first PutObject, which would hide a
        wrong S3_BUCKET. A one-key listing (not HeadBucket: its error has no body, so wrong keys
        and a missing bucket would look alike) tells them apart."""
        started = time.perf_counter()
        await self._call("list_objects_v2", "ListObjectsV2", MaxKeys=1, Prefix="aizoomdoc-check/")
        await super().check()
        return (time.perf_counter() - started) * 1000

    async def _fetch_signed(self, url: str) -> tuple[int, bytes]:
        import httpx

        async with httpx.AsyncClient(timeout=self.settings.s3_read_timeout) as http:
            try:
                response = await http.get(url)
            except httpx.HTTPError as exc:
                raise StorageUnavailableError("files.s3.unreachable", endpoint=self.endpoint,
                                              detail=type(exc).__name__) from exc
            return response.status_code, response.content
