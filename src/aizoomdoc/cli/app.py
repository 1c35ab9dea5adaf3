"""The typer application shared by every command module, and the helpers they use."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from aizoomdoc.config import get_settings
from aizoomdoc.errors import AizoomdocError
from aizoomdoc.texts import t

T = TypeVar("T")

app = typer.Typer(
    name="aizoomdoc",
    help=t("cli.app.help"),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# soft_wrap: a message stays one line (no hard wrapping at the terminal width).
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

log = logging.getLogger("aizoomdoc")


def setup_logging() -> None:
    """Our own loggers at LOG_LEVEL; third-party libraries at WARNING at most.

    Without an explicit LOG_LEVEL a command shows only its own Russian lines (what went wrong is
    already said there, e.g. the ⚠ offline notice or the ✘ error): the library's English log
    records start at ERROR. ``LOG_LEVEL=WARNING`` (or lower) shows them.
    """
    try:
        settings = get_settings()
    except AizoomdocError:  # a wrong setting: the command says so (doctor shows it among its checks)
        level = logging.ERROR
    else:
        level = getattr(logging, settings.log_level, logging.WARNING)
        if "log_level" not in settings.model_fields_set:
            level = logging.ERROR
    logging.basicConfig(level=max(level, logging.WARNING), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aizoomdoc").setLevel(level)


#: What to do next, said only on the command line (the library's message serves the web UI too).
_CLI_HINTS = {
    "store.chat_not_found": "cli.hint.chats_list",
    "ask.error.chat_not_found": "cli.hint.chats_list",
}


def error_line(exc: AizoomdocError) -> str:
    """The one line the CLI prints for ``exc``: its message, plus a command to run where one helps."""
    hint = _CLI_HINTS.get(exc.key)
    return f"{exc} {t(hint)}" if hint else str(exc)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line to stderr and exit."""
    err_console.print(f"[bold red]✘ {t('error.prefix')}:[/] {message}", highlight=False)
    raise typer.Exit(code)


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine for a command; an :class:`AizoomdocError` becomes one clear line."""
    try:
        return asyncio.run(fn())  # type: ignore[arg-type]
    except AizoomdocError as exc:
        fail(error_line(exc))
    except KeyboardInterrupt:
        fail(t("cli.interrupted"), code=130)
