"""Storage keys: ``chats/{chat_id}/{images|documents|other}/{name}``, safe names, key validation.

Naming policy (the same for the local folder and S3):

* A file name is reduced to its last path component (``../../etc/passwd`` → ``passwd``; both ``/``
  and ``\\`` count as separators), NFC-normalised, and stripped of control and invisible format
  characters (``\\x00``, ``\\n``, U+202E …).
* Cyrillic (and any other letters) are **kept as they are**, NFC-normalised, so names stay readable
  in listings and in the browser; S3 keys are UTF-8 and URLs percent-encode them.
* Whitespace runs become ``_``; characters unsafe in file systems or URLs (``<>:"|?*#%{}^~[]`\\``)
  become ``_``; leading dots are removed (no hidden files, no ``..``).
* Every name gets a short random suffix (``_{10 hex}``) before the extension, so two uploads never
  overwrite each other by accident; the name is capped at :data:`MAX_NAME_BYTES` UTF-8 bytes (fits
  any file system) keeping the extension.
* An empty result becomes ``file``.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

from aizoomdoc.errors import InvalidInputError

#: Upper bound of a generated file name in UTF-8 bytes (file systems allow 255; leave room for
#: the local backend's temporary-file prefix and suffix).
MAX_NAME_BYTES = 160
#: Longest extension kept (including the dot).
MAX_EXT_CHARS = 16
#: S3's limit for a whole key.
MAX_KEY_BYTES = 1024

IMAGE_TYPES = frozenset({
    "image", "images", "viewport", "zoom_crop", "zoom", "crop", "user_upload", "upload", "page",
    "page_image", "overlay", "thumbnail", "png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff",
})
DOCUMENT_TYPES = frozenset({
    "document", "documents", "doc", "pdf", "docx", "ocr", "ocr_bundle", "md", "markdown", "html",
    "json", "txt",
})

_CHAT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_UNSAFE_RE = re.compile(r'[<>:"|?*#%{}^~\[\]`\\/]')
_SPACE_RE = re.compile(r"\s+")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)


def folder_for(file_type: str | None) -> str:
    """``images``, ``documents`` or ``other`` for an image type / MIME type / extension."""
    kind = (file_type or "").strip().lower()
    if kind.startswith("image/"):
        return "images"
    if kind in ("application/pdf",):
        return "documents"
    kind = kind.lstrip(".")
    if kind in IMAGE_TYPES:
        return "images"
    if kind in DOCUMENT_TYPES:
        return "documents"
    return "other"


def validate_chat_id(chat_id: object) -> str:
    """The chat id as a string, or :class:`InvalidInputError` (letters, digits, ``-``, ``_``)."""
    value = str(chat_id) if chat_id is not None else ""
    if not _CHAT_ID_RE.match(value):
        raise InvalidInputError("files.bad_chat_id", chat_id=value[:80])
    return value


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    text = _UNSAFE_RE.sub("_", text)
    return _SPACE_RE.sub("_", text)


def _truncate_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def sanitize_filename(filename: str | None) -> str:
    """A safe, readable single path component for ``filename`` (no uniqueness suffix)."""
    raw = filename or ""
    # Keep only the last component, whatever the separator.
    raw = re.split(r"[/\\]", raw)[-1]
    name = _clean(raw).strip("._ ")
    # Split the extension off (only a short, plain one counts as an extension).
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext and len(ext) + 1 <= MAX_EXT_CHARS and re.fullmatch(r"[\w-]+", ext):
        stem, ext = stem.rstrip("._ "), "." + ext
    else:
        stem, ext = name, ""
    stem = stem.lstrip(".") or "file"
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    budget = MAX_NAME_BYTES - len(ext.encode("utf-8"))
    return _truncate_bytes(stem, budget) + ext


def unique_filename(filename: str | None) -> str:
    """:func:`sanitize_filename` plus a random ``_{10 hex}`` suffix before the extension."""
    safe = sanitize_filename(filename)
    stem, dot, ext = safe.rpartition(".")
    if not dot or not stem:
        stem, ext = safe, ""
    else:
        ext = "." + ext
    suffix = "_" + uuid.uuid4().hex[:10]
    budget = MAX_NAME_BYTES - len(ext.encode("utf-8")) - len(suffix)
    return _truncate_bytes(stem, budget) + suffix + ext


def generate_s3_path(chat_id: object, file_type: str | None, filename: str | None) -> str:
    """``chats/{chat_id}/{images|documents|other}/{safe unique name}``."""
    return f"chats/{validate_chat_id(chat_id)}/{folder_for(file_type)}/{unique_filename(filename)}"


def validate_key(key: object) -> str:
    """A storage key as given, or :class:`InvalidInputError` when it could escape or confuse.

    Keys are relative, ``/``-separated; segments are non-empty, not ``.``/``..`` and do not start
    with a dot (the local backend keeps its temporary files and metadata under dot-names); no
    control characters or backslashes; at most 1024 UTF-8 bytes.
    """
    if not isinstance(key, str) or not key:
        raise InvalidInputError("files.bad_key", value="", reason=_reason("empty"))
    shown = key[:120]
    if key.startswith("/"):
        raise InvalidInputError("files.bad_key", value=shown, reason=_reason("absolute"))
    if "\\" in key or any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in key):
        raise InvalidInputError("files.bad_key", value=repr(shown)[1:-1], reason=_reason("chars"))
    if any(not part or part.startswith(".") for part in key.split("/")):
        raise InvalidInputError("files.bad_key", value=shown, reason=_reason("segment"))
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidInputError("files.bad_key", value=shown, reason=_reason("long"))
    return key


def key_under(key: object, folder: str) -> bool:
    """Whether ``key`` is a valid key inside ``folder`` (``chats/{chat_id}/``, ``documents/{id}/``).

    The check before the server signs, reads or deletes a key it read back from a column the user
    can write (``chat_images.s3_path``, ``documents.render_key``, an event's image): a key of
    another chat or document is never acted on.
    """
    try:
        validate_key(key)
    except InvalidInputError:
        return False
    return isinstance(key, str) and folder.endswith("/") and key.startswith(folder) and len(key) > len(folder)


def validate_prefix(prefix: str | None) -> str:
    """A listing prefix: ``""`` (everything) or a key-like string (may end with ``/``)."""
    if not prefix:
        return ""
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def folder_prefix(prefix: object) -> str:
    """The folder ``delete_prefix`` empties: ``chats/{id}`` or ``chats/{id}/`` -> ``chats/{id}/``.
    An empty prefix (``""``, ``"/"``: everything) is refused, the same way by every backend."""
    if not isinstance(prefix, str) or not prefix.strip("/"):
        raise InvalidInputError("files.bad_prefix")
    return validate_prefix(prefix if prefix.endswith("/") else prefix + "/")


def _reason(name: str) -> str:
    from aizoomdoc.texts import t

    return t(f"files.bad_key.{name}")
