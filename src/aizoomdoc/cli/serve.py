"""``aizoomdoc serve`` (the HTTP API and web UI) and ``aizoomdoc token create|list|revoke``."""

from __future__ import annotations

import json
import logging

import typer

from aizoomdoc.cli.app import app, console, fail, run_async
from aizoomdoc.config import get_settings
from aizoomdoc.texts import t

log = logging.getLogger(__name__)

token_app = typer.Typer(help=t("cli.serve.help"), no_args_is_help=True)
app.add_typer(token_app, name="token")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help=t("cli.serve.serve.host.help")),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help=t("cli.serve.serve.port.help")),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help=t("cli.serve.serve.workers.help")),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help=t("cli.serve.serve.access_log.help")),
) -> None:
    """Запустить HTTP API и веб-интерфейс (FastAPI + SSE, документация на /docs)."""
    import uvicorn

    from aizoomdoc.api.auth import is_loopback

    settings = get_settings()
    if "log_level" not in settings.model_fields_set:  # a server logs its warnings (the CLI hides them)
        logging.getLogger("aizoomdoc").setLevel(logging.WARNING)
    if settings.auth_mode == "local" and not is_loopback(host):
        fail(t("api.serve.non_loopback", host=host))
    console.print(t("api.serve.starting", host=host if ":" not in host else f"[{host}]", port=port,
                    mode=settings.auth_mode, workers=workers), highlight=False)
    uvicorn.run(
        "aizoomdoc.api.app:app_factory", factory=True, host=host, port=port, workers=workers,
        log_level=settings.log_level.lower(), access_log=access_log, proxy_headers=False,
        timeout_graceful_shutdown=15,
    )


def _tokens():  # noqa: ANN202 - a local import keeps `aizoomdoc --help` fast
    from aizoomdoc.store.database import Database
    from aizoomdoc.store.events import ApiTokenStore

    settings = get_settings()
    db = Database(settings)
    return db, ApiTokenStore(db, settings.secret("api_token_pepper"))


@token_app.command("create")
def token_create(user: str = typer.Argument(..., help=t("cli.serve.token_create.user.help")),
                 name: str | None = typer.Option(None, "--name", help=t("cli.serve.token_create.name.help"))) -> None:
    """Создать API-токен; он показывается один раз, в базе хранится только его хеш."""

    async def run() -> tuple[str, str]:
        db, store = _tokens()
        try:
            return await store.create(user, name)
        finally:
            await db.dispose()

    token_id, token = run_async(run)
    console.print(t("api.token.created", user=user, token_id=token_id), highlight=False)
    typer.echo(token)


@token_app.command("list")
def token_list(user: str | None = typer.Option(None, "--user", help=t("cli.serve.token_list.user.help")),
               as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json_list.help"))) -> None:
    """Список токенов (без самих токенов)."""

    async def run() -> list[dict]:
        db, store = _tokens()
        try:
            return await store.list(user)
        finally:
            await db.dispose()

    rows = run_async(run)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print(t("api.token.none"))
    for r in rows:
        console.print(f"{r['id']}  {r['user_id']}  {r['name'] or ''}  {r['created_at']}  {r['last_used_at'] or '—'}",
                      highlight=False)


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Argument(..., help=t("cli.serve.token_revoke.token_id.help"))) -> None:
    """Отозвать токен по id (в работающем сервере — в течение минуты)."""

    async def run() -> bool:
        db, store = _tokens()
        try:
            return await store.revoke(token_id)
        finally:
            await db.dispose()

    if not run_async(run):
        fail(t("api.token.not_found", token_id=token_id))
    console.print(t("api.token.revoked", token_id=token_id))
