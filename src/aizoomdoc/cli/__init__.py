"""Command-line interface: ``aizoomdoc …``. Each module registers its commands on ``app``."""

from __future__ import annotations

import logging
import sys

import typer

# Importing a command module registers its commands on ``app``.
from aizoomdoc.cli import ask as _ask  # noqa: F401 - `aizoomdoc ask`
from aizoomdoc.cli import backup as _backup  # noqa: F401 - `aizoomdoc backup`
from aizoomdoc.cli import chats as _chats  # noqa: F401 - `aizoomdoc chats`
from aizoomdoc.cli import compare as _compare  # noqa: F401 - `aizoomdoc compare`
from aizoomdoc.cli import db as _db  # noqa: F401 - `aizoomdoc db …`
from aizoomdoc.cli import doctor as _doctor  # noqa: F401 - `aizoomdoc doctor`
from aizoomdoc.cli import documents as _documents  # noqa: F401 - ingest, search, documents, sample-set
from aizoomdoc.cli import library as _library  # noqa: F401 - `aizoomdoc library`
from aizoomdoc.cli import serve as _serve  # noqa: F401 - `aizoomdoc serve` and `aizoomdoc token`
from aizoomdoc.cli import stats as _stats  # noqa: F401 - `aizoomdoc stats`
from aizoomdoc.cli import storage as _storage  # noqa: F401 - `aizoomdoc storage`
from aizoomdoc.cli import sync as _sync  # noqa: F401 - `aizoomdoc sync` and `aizoomdoc status`
from aizoomdoc.cli import worker as _worker  # noqa: F401 - `aizoomdoc worker`
from aizoomdoc.cli.app import app, error_line, fail, setup_logging
from aizoomdoc.errors import AizoomdocError

log = logging.getLogger(__name__)


def main() -> None:
    """The ``aizoomdoc`` entry point: a wrong setting or an error a command did not catch itself
    becomes one line and exit code 1 (``fail`` raises typer.Exit, which outside the typer app
    would end in a traceback)."""
    try:
        try:
            setup_logging()
            app()
        except AizoomdocError as exc:
            fail(error_line(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)


__all__ = ["app", "main"]
