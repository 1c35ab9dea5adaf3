"""HMAC-SHA256 signed links for the local backend.

A link is ``{public_base_url}/files/{percent-encoded key}?expires={unix seconds}&sig={hex}``;
``sig = HMAC-SHA256(secret, "{key}\\n{expires}")``. Verification recomputes the HMAC and compares
it with :func:`hmac.compare_digest` (constant time), then checks the expiry.

The secret is ``SIGNING_SECRET`` when set; otherwise a random one is generated once and kept in
``DATA_DIR/.signing_secret`` (mode 0600), so links survive restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from aizoomdoc.errors import AuthError, InvalidInputError

log = logging.getLogger(__name__)

#: Longest lifetime of a signed link (the same as S3's presigned URLs: 7 days).
MAX_EXPIRES_IN = 7 * 24 * 3600
SECRET_FILE_NAME = ".signing_secret"
#: URL path prefix the HTTP API serves stored files under.
FILES_ROUTE = "/files/"


def check_expires_in(expires_in: object) -> int:
    """``expires_in`` as int seconds in ``[1, MAX_EXPIRES_IN]`` or :class:`InvalidInputError`."""
    try:
        value = int(expires_in)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInputError("files.bad_expiry", max=MAX_EXPIRES_IN, value=expires_in) from None
    if isinstance(expires_in, bool) or value != expires_in or not 1 <= value <= MAX_EXPIRES_IN:
        raise InvalidInputError("files.bad_expiry", max=MAX_EXPIRES_IN, value=expires_in)
    return value


def _message(key: str, expires_at: int) -> bytes:
    return f"{key}\n{int(expires_at)}".encode()


def sign(key: str, expires_at: int, secret: bytes) -> str:
    """The hex HMAC-SHA256 signature of ``key`` valid until ``expires_at`` (unix seconds)."""
    return hmac.new(secret, _message(key, expires_at), hashlib.sha256).hexdigest()


def verify(key: str, expires: object, sig: object, secret: bytes, *, now: float | None = None) -> bool:
    """True when ``sig`` is the signature of ``key``/``expires`` and the link has not expired."""
    try:
        expires_at = int(str(expires))
    except (TypeError, ValueError):
        return False
    if not isinstance(sig, str) or not isinstance(key, str):
        return False
    expected = sign(key, expires_at, secret)
    # Compare first (constant time, independent of the expiry), then check the clock.
    valid = hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace"))
    return valid and expires_at >= (time.time() if now is None else now)


class UrlSigner:
    """Signs and verifies ``/files/…`` links with one secret."""

    def __init__(self, secret: bytes, public_base_url: str) -> None:
        if not secret:
            raise ValueError("empty signing secret")
        self._secret = secret
        self.public_base_url = public_base_url.rstrip("/")

    def __repr__(self) -> str:  # never show the secret
        return f"UrlSigner(public_base_url={self.public_base_url!r})"

    def url_for(self, key: str) -> str:
        """The unsigned record URL of ``key`` (what uploads return and the database keeps)."""
        return f"{self.public_base_url}{FILES_ROUTE}{quote(key, safe='/')}"

    def sign_url(self, key: str, expires_in: int, *, now: float | None = None) -> str:
        expires_at = int((time.time() if now is None else now) + check_expires_in(expires_in))
        sig = sign(key, expires_at, self._secret)
        return f"{self.url_for(key)}?expires={expires_at}&sig={sig}"

    def verify(self, key: str, expires: object, sig: object, *, now: float | None = None) -> bool:
        return verify(key, expires, sig, self._secret, now=now)

    def verify_url(self, url: str, *, now: float | None = None) -> str:
        """The key a signed URL (absolute or just path+query) grants, or :class:`AuthError`."""
        parts = urlsplit(url)
        path = parts.path
        idx = path.find(FILES_ROUTE)
        if idx < 0:
            raise AuthError("files.signed.invalid")
        key = unquote(path[idx + len(FILES_ROUTE):])
        query = parse_qs(parts.query)
        expires = (query.get("expires") or [""])[0]
        sig = (query.get("sig") or [""])[0]
        try:
            expires_at = int(expires)
        except ValueError:
            raise AuthError("files.signed.invalid") from None
        if not hmac.compare_digest(sign(key, expires_at, self._secret).encode(), sig.encode()):
            raise AuthError("files.signed.invalid")
        if expires_at < (time.time() if now is None else now):
            raise AuthError("files.signed.expired")
        return key


def load_or_create_secret(data_dir: Path, configured: str | None) -> bytes:
    """``SIGNING_SECRET`` if set, else the secret kept in ``DATA_DIR/.signing_secret`` (created once)."""
    if configured:
        return configured.encode("utf-8")
    path = Path(data_dir) / SECRET_FILE_NAME
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs once it is written
        for _ in range(50):
            try:
                return _read_secret(path)
            except FileNotFoundError:
                time.sleep(0.02)
        return _read_secret(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value)
        fh.flush()
        os.fsync(fh.fileno())
    log.info("generated a signing secret for local file links in %s", path)
    return value.encode("ascii")


def _read_secret(path: Path) -> bytes:
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise FileNotFoundError(path)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        try:
            os.chmod(path, 0o600)
        except OSError:
            log.warning("%s is readable by other users; chmod 600 it", path)
    return value.encode("ascii")
