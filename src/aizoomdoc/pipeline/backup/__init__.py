"""Backup and restore: every table and every stored file, to a folder or another S3 bucket."""

from aizoomdoc.pipeline.backup.service import FORMAT, FORMAT_VERSION, BackupService, object_name
from aizoomdoc.pipeline.backup.target import BackupTarget, FolderTarget, S3Target, open_target

__all__ = ["FORMAT", "FORMAT_VERSION", "BackupService", "BackupTarget", "FolderTarget", "S3Target", "object_name",
           "open_target"]
