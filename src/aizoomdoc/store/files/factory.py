"""Build the file storage the settings ask for: S3 when ``USE_S3_STORAGE=true``, else the folder."""

from __future__ import annotations

from aizoomdoc.config import Settings
from aizoomdoc.store.files.base import FileStorage


def build_file_storage(settings: Settings) -> FileStorage:
    """:class:`~.s3.S3FileStorage` or :class:`~.local.LocalFileStorage` for ``settings``.

    Raises :class:`~aizoomdoc.errors.ConfigError` naming the missing variables when S3 is enabled
    but not configured. Nothing touches the network here.
    """
    if settings.use_s3_storage:
        from aizoomdoc.store.files.s3 import S3FileStorage

        return S3FileStorage(settings)
    from aizoomdoc.store.files.local import LocalFileStorage

    return LocalFileStorage(settings)
