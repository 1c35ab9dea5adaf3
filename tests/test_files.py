"""File storage: one suite, three backends (local folder, a real SeaweedFS that checks signatures,
and the offline-resilient storage over that SeaweedFS, as the application builds it for S3).

Every test taking the ``storage`` / ``make_storage`` fixtures runs against every backend.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aizoomdoc.config import Settings
from aizoomdoc.errors import (
    AuthError,
    ConfigError,
    FileTooLargeError,
    InvalidInputError,
    NotFoundError,
    StorageError,
    StorageUnavailableError,
)
from aizoomdoc.store.files import FileStorage, UploadItem, build_file_storage, generate_s3_path
from aizoomdoc.store.files.local import LocalFileStorage
from aizoomdoc.store.files.paths import MAX_NAME_BYTES, sanitize_filename
from aizoomdoc.store.files.resilient import ResilientFileStorage
from aizoomdoc.store.files.s3 import S3FileStorage
from tests.support.services import SeaweedServer

#: The backends every contract test runs on; the S3 ones (resilient is S3 with a local journal) start SeaweedFS.
BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3), pytest.param("resilient", marks=pytest.mark.s3)]
MB = 1024 * 1024


def make_settings(backend: str, data_dir: Path, server: SeaweedServer | None = None,
                  bucket: str | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"_env_file": None, "data_dir": data_dir}
    if backend in ("s3", "resilient"):
        assert server is not None
        values.update(
            use_s3_storage=True, s3_endpoint_url=server.endpoint_url, s3_region=server.region,
            s3_access_key=server.access_key, s3_secret_key=server.secret_key, s3_bucket=bucket,
        )
    values.update(overrides)
    return Settings(**values)


def build(backend: str, settings: Settings) -> FileStorage:
    """The storage of ``backend``: the configured one, or S3 with the local fallback and journal."""
    return ResilientFileStorage(settings) if backend == "resilient" else build_file_storage(settings)


def s3_of(storage: FileStorage) -> S3FileStorage | None:
    """The S3 backend behind ``storage`` (None for the local folder)."""
    inner = storage.s3 if isinstance(storage, ResilientFileStorage) else storage
    return inner if isinstance(inner, S3FileStorage) else None


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture()
async def make_storage(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[..., FileStorage]]:
    """``make_storage(**settings_overrides)`` for the parametrized backend; closed afterwards."""
    server = request.getfixturevalue("s3_server") if backend != "local" else None
    bucket = request.getfixturevalue("s3_bucket") if backend != "local" else None
    made: list[FileStorage] = []

    def make(**overrides: Any) -> FileStorage:
        storage = build(backend, make_settings(backend, tmp_path / "data", server, bucket, **overrides))
        made.append(storage)
        return storage

    yield make
    for storage in made:
        await storage.aclose()


@pytest.fixture()
def storage(make_storage: Callable[..., FileStorage]) -> FileStorage:
    return make_storage()


def files_app(storage: LocalFileStorage) -> Starlette:
    """A stand-in for the HTTP API's ``/files/{key}`` route: verify, then serve."""

    async def serve(request: Request) -> Response:
        key = request.path_params["key"]
        if not storage.verify(key, request.query_params.get("expires"), request.query_params.get("sig")):
            return Response(status_code=403)
        try:
            data = await storage.read_bytes(key)
        except NotFoundError:
            return Response(status_code=404)
        return Response(data, media_type=(await storage.get_file_metadata(key))["content_type"])

    return Starlette(routes=[Route("/files/{key:path}", serve)])


async def fetch(storage: FileStorage, url: str) -> httpx.Response:
    """GET a link the way a browser would (the local backend through an in-process ASGI app)."""
    if isinstance(storage, LocalFileStorage):
        transport = httpx.ASGITransport(app=files_app(storage))
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(url)
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url)


def chat() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------

async def test_round_trip_of_every_method(storage: FileStorage, tmp_path: Path) -> None:
    chat_id = chat()
    key = storage.generate_s3_path(chat_id, "viewport", "viewport_step_1.png")
    assert key.startswith(f"chats/{chat_id}/images/viewport_step_1_") and key.endswith(".png")

    url = await storage.upload_bytes(b"\x89PNG fake", key, content_type="image/png",
                                     metadata={"description": "Первый вьюпорт", "Step": 1})
    assert url == storage.url_for(key)
    assert await storage.file_exists(key)
    assert await storage.read_bytes(key) == b"\x89PNG fake"

    meta = await storage.get_file_metadata(key)
    assert meta["key"] == key and meta["size"] == 9
    assert meta["content_type"] == "image/png"
    assert meta["metadata"] == {"description": "Первый вьюпорт", "step": "1"}
    assert meta["last_modified"].tzinfo is not None
    assert abs(meta["last_modified"].timestamp() - time.time()) < 120

    # upload_file + download_file (into a folder that does not exist yet); content type guessed.
    src = tmp_path / "plan.pdf"
    src.write_bytes(os.urandom(70_000))
    doc_key = storage.generate_s3_path(chat_id, "pdf", "plan.pdf")
    assert "/documents/" in doc_key
    await storage.upload_file(src, doc_key)
    assert (await storage.get_file_metadata(doc_key))["content_type"] == "application/pdf"
    target = tmp_path / "out" / "nested" / "copy.pdf"
    assert await storage.download_file(doc_key, target) == target
    assert target.read_bytes() == src.read_bytes()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temp files left

    assert await storage.list_files(f"chats/{chat_id}/") == sorted([key, doc_key])
    assert await storage.list_files(f"chats/{chat_id}/images/") == [key]

    await storage.delete_file(key)
    assert not await storage.file_exists(key)
    with pytest.raises(NotFoundError, match="не найден"):
        await storage.read_bytes(key)
    with pytest.raises(NotFoundError):
        await storage.get_file_metadata(key)
    missing_target = tmp_path / "missing.png"
    with pytest.raises(NotFoundError):
        await storage.download_file(key, missing_target)
    assert not missing_target.exists()
    await storage.delete_file(key)  # deleting twice is fine

    assert await storage.delete_prefix(f"chats/{chat_id}") == 1
    assert await storage.list_files(f"chats/{chat_id}/") == []


async def test_overwrite_same_key_replaces_content(storage: FileStorage) -> None:
    key = f"chats/{chat()}/other/a.txt"
    await storage.upload_bytes(b"one", key)
    await storage.upload_bytes(b"two", key, content_type="text/plain")
    assert await storage.read_bytes(key) == b"two"
    assert (await storage.get_file_metadata(key))["content_type"] == "text/plain"


async def test_record_url_shape(storage: FileStorage) -> None:
    key = f"chats/{chat()}/images/план 1.png".replace(" ", "_")
    url = await storage.upload_bytes(b"x", key)
    quoted = "%D0%BF%D0%BB%D0%B0%D0%BD_1.png"
    if isinstance(storage, LocalFileStorage):
        assert url.startswith("http://127.0.0.1:8000/files/chats/") and url.endswith(quoted)
        assert "sig=" not in url
    else:
        s3 = s3_of(storage)
        assert s3 is not None
        assert url.startswith(f"{s3.endpoint_url}/{s3.bucket}/chats/") and url.endswith(quoted)


async def test_large_file_round_trip_uses_parts(make_storage: Callable[..., FileStorage], tmp_path: Path) -> None:
    storage = make_storage(s3_multipart_threshold_mb=5, s3_multipart_chunk_mb=5)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(12 * MB + 123))
    key = f"chats/{chat()}/documents/big.bin"
    await storage.upload_file(src, key, metadata={"note": "большой"})
    meta = await storage.get_file_metadata(key)
    assert meta["size"] == 12 * MB + 123 and meta["metadata"] == {"note": "большой"}
    out = tmp_path / "big.out"
    await storage.download_file(key, out)
    assert out.read_bytes() == src.read_bytes()
    s3 = s3_of(storage)
    if s3 is not None:  # really multipart: S3 ETags of multipart uploads end in -N
        client = await s3._get_client()
        head = await client.head_object(Bucket=s3.bucket, Key=key)
        assert head["ETag"].strip('"').endswith("-3")


# --------------------------------------------------------------------------------------------
# Listing beyond one page, deleting a chat's files
# --------------------------------------------------------------------------------------------

N_MANY = 1050


@pytest.fixture(scope="module", params=BACKENDS)
async def many_files(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """1,050 tiny objects under one chat prefix (uploaded once per backend), plus a neighbour."""
    server = bucket = None
    if request.param != "local":
        server = request.getfixturevalue("s3_server")
        bucket = server.create_bucket()
    storage = build(request.param, make_settings(request.param, tmp_path_factory.mktemp("many"), server, bucket))
    chat_id = chat()
    keys = [f"chats/{chat_id}/images/{i:05d}.txt" for i in range(N_MANY)]
    await storage.upload_many([(str(i).encode(), k, "text/plain") for i, k in enumerate(keys)],
                              concurrency=32)
    neighbour = f"chats/{chat_id}x/images/keep.txt"  # shares the string prefix, not the folder
    await storage.upload_bytes(b"keep", neighbour)
    yield storage, chat_id, keys, neighbour
    await storage.aclose()


async def test_list_files_returns_all_pages_and_delete_prefix_removes_all(many_files) -> None:
    storage, chat_id, keys, neighbour = many_files
    listed = await storage.list_files(f"chats/{chat_id}/")
    assert len(listed) == N_MANY and listed == keys
    assert await storage.list_files(f"chats/{chat_id}/images/0104") == keys[1040:1050]
    assert neighbour in await storage.list_files("chats/")

    assert await storage.delete_prefix(f"chats/{chat_id}") == N_MANY
    assert await storage.list_files(f"chats/{chat_id}/") == []
    assert await storage.read_bytes(neighbour) == b"keep"  # chats/{id}x/ untouched


async def test_delete_prefix_refuses_to_wipe_everything(storage: FileStorage) -> None:
    for prefix in ("", "/", "//"):
        with pytest.raises(InvalidInputError, match="префикс"):
            await storage.delete_prefix(prefix)


# --------------------------------------------------------------------------------------------
# Signed links
# --------------------------------------------------------------------------------------------

async def test_signed_url_serves_bytes_and_refuses_tampering_and_expiry(storage: FileStorage) -> None:
    key = storage.generate_s3_path(chat(), "page", "лист 5.png")
    payload = os.urandom(5000)
    await storage.upload_bytes(payload, key, content_type="image/png")

    url = storage.get_signed_url(key, expires_in=3600)  # synchronous, no await
    assert isinstance(url, str)
    ok = await fetch(storage, url)
    assert ok.status_code == 200 and ok.content == payload

    sig_name = "sig=" if isinstance(storage, LocalFileStorage) else "X-Amz-Signature="
    head, sig = url.split(sig_name)
    forged = head + sig_name + ("0" if sig[0] != "0" else "1") + sig[1:]
    assert (await fetch(storage, forged)).status_code in (400, 403)

    # A link signed for one file does not open another.
    other = storage.generate_s3_path(chat(), "page", "other.png")
    await storage.upload_bytes(b"secret", other)
    swapped = url.replace(quote(key, safe="/"), quote(other, safe="/"))
    assert swapped != url
    assert (await fetch(storage, swapped)).status_code in (400, 403, 404)

    # S3 presigned links carry X-Amz-Date truncated to the second, so a 1-second link can be
    # stale the moment it is made; 3 seconds always leaves at least 2 to use it.
    short = storage.get_signed_url(key, expires_in=3)
    assert (await fetch(storage, short)).status_code == 200
    await asyncio.sleep(4.2)
    assert (await fetch(storage, short)).status_code in (400, 403)


def test_signed_url_expiry_bounds(storage: FileStorage) -> None:
    key = "chats/a/images/x.png"
    for bad in (0, -5, 7 * 24 * 3600 + 1, "soon", 1.5):
        with pytest.raises(InvalidInputError):
            storage.get_signed_url(key, expires_in=bad)  # type: ignore[arg-type]
    assert storage.get_signed_url(key, expires_in=7 * 24 * 3600)


def test_local_verify_functions(settings: Settings) -> None:
    storage = LocalFileStorage(settings)
    key = "chats/c1/images/план_1.png"
    url = storage.get_signed_url(key, expires_in=60)
    assert url.startswith("http://127.0.0.1:8000/files/chats/c1/images/%D0%BF")
    assert storage.verify_signed_url(url) == key
    assert storage.verify_signed_url(url.split("8000", 1)[1]) == key  # path + query is enough

    query = dict(p.split("=") for p in url.split("?", 1)[1].split("&"))
    assert storage.verify(key, query["expires"], query["sig"])
    forged = query["sig"][:-1] + ("1" if query["sig"][-1] == "0" else "0")  # always a different char
    assert not storage.verify(key, query["expires"], forged)
    assert not storage.verify("chats/c1/images/other.png", query["expires"], query["sig"])
    assert not storage.verify(key, str(int(query["expires"]) + 100), query["sig"])  # expiry is signed
    assert not storage.verify(key, "abc", query["sig"])
    assert not storage.verify(key, query["expires"], None)

    past = storage.signer.sign_url(key, 10, now=time.time() - 3600)
    with pytest.raises(AuthError, match="истёк"):
        storage.verify_signed_url(past)
    with pytest.raises(AuthError, match="подпись"):
        storage.verify_signed_url(url.replace("sig=", "sig=f"))

    # The generated secret is kept (0600) and shared by the next process on the same DATA_DIR.
    secret_file = settings.data_dir / ".signing_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert LocalFileStorage(settings).verify_signed_url(url) == key
    # With SIGNING_SECRET configured, links made with another secret are refused.
    other = LocalFileStorage(Settings(_env_file=None, data_dir=settings.data_dir, signing_secret="s" * 40))
    with pytest.raises(AuthError):
        other.verify_signed_url(url)
    assert other.verify_signed_url(other.get_signed_url(key)) == key


# --------------------------------------------------------------------------------------------
# Limits and names
# --------------------------------------------------------------------------------------------

async def test_file_over_the_limit_is_refused_and_nothing_is_written(
    make_storage: Callable[..., FileStorage], tmp_path: Path
) -> None:
    storage = make_storage(max_file_size_mb=1)
    chat_id = chat()
    key = f"chats/{chat_id}/images/huge.png"
    with pytest.raises(FileTooLargeError) as info:
        await storage.upload_bytes(b"x" * int(1.5 * MB), key)
    message = str(info.value)
    assert "MAX_FILE_SIZE_MB" in message and "1.50" in message
    assert info.value.status_code == 413

    big = tmp_path / "huge.pdf"
    big.write_bytes(b"y" * (2 * MB))
    with pytest.raises(FileTooLargeError, match=r"2\.00 МБ"):
        await storage.upload_file(big, f"chats/{chat_id}/documents/huge.pdf")

    # A batch with one oversized item writes nothing at all.
    with pytest.raises(FileTooLargeError):
        await storage.upload_many([(b"small", f"chats/{chat_id}/other/ok.txt"), (big, f"chats/{chat_id}/other/big")])
    assert not await storage.file_exists(key)
    assert await storage.list_files(f"chats/{chat_id}/") == []

    await storage.upload_bytes(b"x" * MB, key)  # exactly at the limit is fine
    assert (await storage.get_file_metadata(key))["size"] == MB


ODD_NAMES = [
    "../../etc/passwd",
    "/etc/shadow",
    "..\\..\\windows\\system32\\config",
    "план №1 (копия).pdf",
    "a" * 300 + ".pdf",
    "я" * 300 + ".png",
    "bad\x00name\n\r\t\x1b[31m.png",
    "\u202eevil\u202dgnp.exe",
    "",
    "   ",
    "...",
    ".hidden",
    "CON.txt",
    "what?#%&=+.png",
]


async def test_odd_names_are_stored_safely_under_the_chat_prefix(storage: FileStorage) -> None:
    chat_id = chat()
    keys = []
    for i, name in enumerate(ODD_NAMES):
        key = storage.generate_s3_path(chat_id, "user_upload", name)
        prefix = f"chats/{chat_id}/images/"
        assert key.startswith(prefix), key
        leaf = key[len(prefix):]
        assert "/" not in leaf and "\\" not in leaf and ".." not in leaf and not leaf.startswith(".")
        assert all(unicodedata.category(ch)[0] != "C" for ch in leaf), repr(leaf)
        assert len(leaf.encode("utf-8")) <= MAX_NAME_BYTES
        await storage.upload_bytes(str(i).encode(), key)
        keys.append(key)
    assert await storage.list_files(f"chats/{chat_id}/") == sorted(keys)
    for i, key in enumerate(keys):
        assert await storage.read_bytes(key) == str(i).encode()
    if isinstance(storage, LocalFileStorage):
        root = storage.root.resolve()
        for key in keys:
            assert storage.path_for(key).resolve().is_relative_to(root / "chats" / chat_id)
        assert not (root.parent / "etc").exists()

    cyr = keys[ODD_NAMES.index("план №1 (копия).pdf")]
    assert "/план_№1_(копия)_" in cyr and cyr.endswith(".pdf")
    long_a = keys[ODD_NAMES.index("a" * 300 + ".pdf")]
    assert long_a.endswith(".pdf") and len(long_a.rsplit("/", 1)[1]) < 200
    assert keys[ODD_NAMES.index("я" * 300 + ".png")].endswith(".png")
    assert keys[ODD_NAMES.index("")].rsplit("/", 1)[1].startswith("file_")


def test_generate_s3_path_folders_uniqueness_and_chat_id() -> None:
    c = "7f0e9d2a-1b2c-4d5e-8f90-123456789abc"
    for file_type in ("viewport", "zoom_crop", "user_upload", "page", "image", "png", "image/png", "JPEG"):
        assert generate_s3_path(c, file_type, "a.png").startswith(f"chats/{c}/images/a_")
    for file_type in ("document", "pdf", "application/pdf"):
        assert generate_s3_path(c, file_type, "a.pdf").startswith(f"chats/{c}/documents/a_")
    for file_type in ("log", None, "", "whatever"):
        assert generate_s3_path(c, file_type, "a.bin").startswith(f"chats/{c}/other/a_")

    many = {generate_s3_path(c, "viewport", "viewport_step_1.png") for _ in range(2000)}
    assert len(many) == 2000  # the same name twice never yields the same key

    for bad in ("", "../x", "a/b", "a b", None, "x" * 200, "чат", ".", "-a"):
        with pytest.raises(InvalidInputError, match="идентификатор чата"):
            generate_s3_path(bad, "viewport", "a.png")  # type: ignore[arg-type]

    decomposed = unicodedata.normalize("NFD", "Схема й.png")
    assert sanitize_filename(decomposed) == unicodedata.normalize("NFC", "Схема_й.png")
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("C:\\Users\\me\\plan.PDF") == "plan.PDF"


async def test_unsafe_keys_are_refused_and_nothing_is_written(storage: FileStorage) -> None:
    for key in ("../escape.txt", "/abs.txt", "chats//x.txt", "chats/../../x.txt", "a\\b.txt",
                "chats/x\x00.txt", ".meta/x.json", "chats/.hidden", "", "k" * 1100):
        with pytest.raises(InvalidInputError, match="ключ"):
            await storage.upload_bytes(b"x", key)
    assert await storage.list_files("") == []


async def test_bad_metadata_is_refused(storage: FileStorage) -> None:
    key = f"chats/{chat()}/other/m.txt"
    with pytest.raises(InvalidInputError, match="метаданные"):
        await storage.upload_bytes(b"x", key, metadata={"описание": "ключ по-русски"})
    with pytest.raises(InvalidInputError, match="метаданные"):
        await storage.upload_bytes(b"x", key, metadata={"d": "я" * 2000})
    assert not await storage.file_exists(key)


# --------------------------------------------------------------------------------------------
# upload_many
# --------------------------------------------------------------------------------------------

async def test_upload_many_keeps_order_and_bounds_concurrency(
    storage: FileStorage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    active = peak = 0
    original = storage._put_bytes

    async def counting(*args: Any, **kwargs: Any) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        try:
            await asyncio.sleep(0.02)
            await original(*args, **kwargs)
        finally:
            active -= 1

    monkeypatch.setattr(storage, "_put_bytes", counting)
    chat_id = chat()
    path_item = tmp_path / "f.txt"
    path_item.write_bytes(b"from file")
    items: list[Any] = [(f"{i}".encode(), f"chats/{chat_id}/other/{i:02d}.txt") for i in range(20)]
    items.append({"file_path": path_item, "s3_key": f"chats/{chat_id}/other/file.txt", "metadata": {"a": "b"}})
    items.append(UploadItem(b"item", f"chats/{chat_id}/other/item.bin", "application/x-test"))
    urls = await storage.upload_many(items, concurrency=3)
    assert 2 <= peak <= 3
    expected_keys = [f"chats/{chat_id}/other/{i:02d}.txt" for i in range(20)] + [
        f"chats/{chat_id}/other/file.txt", f"chats/{chat_id}/other/item.bin"]
    assert urls == [storage.url_for(k) for k in expected_keys]
    assert await storage.read_bytes(expected_keys[20]) == b"from file"
    assert (await storage.get_file_metadata(expected_keys[21]))["content_type"] == "application/x-test"
    assert await storage.upload_many([]) == []
    with pytest.raises(InvalidInputError, match="№0"):
        await storage.upload_many([42])  # type: ignore[list-item]


# --------------------------------------------------------------------------------------------
# Connectivity and clear errors
# --------------------------------------------------------------------------------------------

async def test_is_connected_is_synchronous_and_works_inside_a_loop(storage: FileStorage) -> None:
    assert storage.is_connected() is True


def test_is_connected_works_without_a_loop(storage: FileStorage) -> None:
    assert storage.is_connected() is True


@pytest.mark.s3
async def test_wrong_secret_gives_a_clear_error(s3_server: SeaweedServer, s3_bucket: str, tmp_path: Path) -> None:
    secret = "definitely-wrong-secret-value"
    storage = build_file_storage(make_settings("s3", tmp_path, s3_server, s3_bucket, s3_secret_key=secret))
    started = time.monotonic()
    try:
        for call in (lambda: storage.upload_bytes(b"x", "chats/a/other/x.txt"),
                     lambda: storage.list_files("chats/"),
                     lambda: storage.read_bytes("chats/a/other/x.txt")):
            with pytest.raises(StorageError) as info:
                await call()
            assert "S3_SECRET_KEY" in str(info.value) and "S3_ACCESS_KEY" in str(info.value)
            assert secret not in str(info.value) and secret not in repr(info.value.params)
        assert storage.is_connected() is False
    finally:
        await storage.aclose()
    assert time.monotonic() - started < 5

    unknown = build_file_storage(make_settings("s3", tmp_path, s3_server, s3_bucket, s3_access_key="tenant:nobody"))
    with pytest.raises(StorageError, match="InvalidAccessKeyId|S3_ACCESS_KEY"):
        await unknown.upload_bytes(b"x", "chats/a/other/x.txt")
    await unknown.aclose()


async def test_unreachable_endpoint_fails_fast_with_a_clear_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    settings = Settings(_env_file=None, data_dir=tmp_path, use_s3_storage=True, s3_endpoint_url=endpoint,
                        s3_access_key="k", s3_secret_key="super-secret-123", s3_bucket="b")
    storage = build_file_storage(settings)
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError) as info:
        await storage.upload_bytes(b"x", "chats/a/other/x.txt")
    assert endpoint in str(info.value) and "S3_ENDPOINT_URL" in str(info.value)
    with pytest.raises(StorageUnavailableError):
        await storage.list_files("chats/")
    assert storage.is_connected() is False
    assert time.monotonic() - started < 8
    assert "super-secret-123" not in caplog.text
    await storage.aclose()


@pytest.mark.s3
async def test_missing_bucket_says_how_to_create_it(s3_server: SeaweedServer, tmp_path: Path) -> None:
    bucket = f"missing-{uuid.uuid4().hex[:10]}"
    storage = build_file_storage(make_settings("s3", tmp_path, s3_server, bucket))
    assert isinstance(storage, S3FileStorage)
    try:
        with pytest.raises(StorageError, match="aizoomdoc storage init") as info:
            await storage.list_files("chats/")
        assert bucket in str(info.value)
        with pytest.raises(StorageError, match="aizoomdoc storage init"):
            await storage.read_bytes("chats/a/other/x.txt")
        assert storage.is_connected() is False
        assert await storage.init() is True
        assert await storage.init() is False
        assert storage.is_connected() is True
        await storage.upload_bytes(b"ok", "chats/a/other/x.txt")
        assert await storage.list_files("chats/") == ["chats/a/other/x.txt"]
    finally:
        await storage.aclose()


def test_s3_enabled_but_not_configured(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY"):
        build_file_storage(Settings(_env_file=None, data_dir=tmp_path, use_s3_storage=True))


async def test_local_storage_on_an_unusable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where DATA_DIR should be")
    storage = LocalFileStorage(Settings(_env_file=None, data_dir=tmp_path / "d2", signing_secret="x" * 32),
                               root=blocker / "files")
    with pytest.raises(StorageError, match="DATA_DIR"):
        await storage.upload_bytes(b"x", "chats/a/other/x.txt")
    assert storage.is_connected() is False


async def test_local_keys_cannot_escape_through_symlinks(settings: Settings, tmp_path: Path) -> None:
    storage = LocalFileStorage(settings)
    outside = tmp_path / "outside"
    outside.mkdir()
    (settings.files_dir / "chats").mkdir(parents=True)
    (settings.files_dir / "chats" / "evil").symlink_to(outside)
    with pytest.raises(InvalidInputError):
        await storage.upload_bytes(b"x", "chats/evil/images/x.png")
    assert list(outside.iterdir()) == []


# --------------------------------------------------------------------------------------------
# The seed facade and the CLI
# --------------------------------------------------------------------------------------------

async def test_seed_facade(make_storage: Callable[..., FileStorage], tmp_path: Path) -> None:
    from aizoomdoc.s3_storage import S3StorageFacade

    storage = make_storage()
    facade = S3StorageFacade()
    facade.configure(storage.settings)
    assert facade.backend == storage.backend
    chat_id = chat()
    local_image = tmp_path / "viewport_step_1.png"
    local_image.write_bytes(b"png bytes")
    s3_path = facade.generate_s3_path(chat_id=chat_id, file_type="viewport", filename="viewport_step_1.png")
    s3_url = await facade.upload_file(file_path=str(local_image), s3_key=s3_path, content_type="image/png",
                                      metadata={"description": "First zoom viewport"})
    assert s3_url == facade.url_for(s3_path)
    signed_url = facade.get_signed_url(s3_key=s3_path, expires_in=3600)
    response = await fetch(facade.storage, signed_url)
    assert response.content == b"png bytes"
    assert facade.is_connected() is True
    assert await facade.list_files(f"chats/{chat_id}/") == [s3_path]
    assert await facade.delete_prefix(f"chats/{chat_id}/") == 1
    await facade.aclose()


def test_seed_facade_binds_lazily_to_get_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aizoomdoc.config import reset_settings_cache
    from aizoomdoc.s3_storage import S3StorageFacade, s3_storage

    assert isinstance(s3_storage, S3StorageFacade)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "lazy"))
    reset_settings_cache()
    try:
        facade = S3StorageFacade()
        assert facade.backend == "local"
        assert facade.storage.location == str(tmp_path / "lazy" / "files")
        monkeypatch.setenv("USE_S3_STORAGE", "true")
        reset_settings_cache()
        assert S3StorageFacade().is_connected() is False  # not configured: False, not an exception
    finally:
        reset_settings_cache()


@pytest.mark.s3
def test_cli_storage_init_and_check(s3_server: SeaweedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from aizoomdoc.cli import app
    from aizoomdoc.config import reset_settings_cache

    runner = CliRunner()
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "cli"))
    reset_settings_cache()
    try:
        result = runner.invoke(app, ["storage", "init"])
        assert result.exit_code == 0, result.output
        assert "Локальное хранилище готово" in result.output
        result = runner.invoke(app, ["storage", "check"])
        assert result.exit_code == 0, result.output
        assert "работают" in result.output

        bucket = f"cli-{uuid.uuid4().hex[:10]}"
        for name, value in {"USE_S3_STORAGE": "true", "S3_ENDPOINT_URL": s3_server.endpoint_url,
                            "S3_REGION": s3_server.region, "S3_ACCESS_KEY": s3_server.access_key,
                            "S3_SECRET_KEY": s3_server.secret_key, "S3_BUCKET": bucket}.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()
        result = runner.invoke(app, ["storage", "init"])
        assert result.exit_code == 0, result.output
        assert f"Бакет «{bucket}» создан" in result.output
        result = runner.invoke(app, ["storage", "init"])
        assert "уже существует" in result.output
        result = runner.invoke(app, ["storage", "check"])
        assert result.exit_code == 0, result.output
        assert "работают" in result.output

        monkeypatch.setenv("S3_SECRET_KEY", "wrong-secret-xyz")
        reset_settings_cache()
        result = runner.invoke(app, ["storage", "check"])
        assert result.exit_code == 1
        assert "S3_SECRET_KEY" in result.output and "wrong-secret-xyz" not in result.output
    finally:
        reset_settings_cache()
