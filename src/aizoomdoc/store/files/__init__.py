"""File storage: one async API over a local folder or an S3-compatible bucket.

>>> storage = build_file_storage(settings)
>>> key = storage.generate_s3_path(chat_id, "viewport", "viewport_step_1.png")
>>> url = await storage.upload_file("/tmp/v.png", key, content_type="image/png")
>>> link = storage.get_signed_url(key, expires_in=3600)
"""

from aizoomdoc.store.files.base import FileMetadata, FileStorage, UploadItem
from aizoomdoc.store.files.factory import build_file_storage
from aizoomdoc.store.files.paths import generate_s3_path, sanitize_filename, validate_key

__all__ = [
    "FileMetadata",
    "FileStorage",
    "UploadItem",
    "build_file_storage",
    "generate_s3_path",
    "sanitize_filename",
    "validate_key",
]
