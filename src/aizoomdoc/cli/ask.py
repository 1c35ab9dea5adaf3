"""``aizoomdoc ask QUESTION --doc PATH…``: answer a question about documents, with citations and
zoomed images, every step stored; and the LLM line of ``aizoomdoc doctor``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from aizoomdoc.cli.app import app, console, err_console, fail, run_async
from aizoomdoc.cli.doctor import CheckResult, DoctorContext, register_check
from aizoomdoc.config import get_settings
from aizoomdoc.errors import AizoomdocError, LLMError
from aizoomdoc.pipeline.ask import AskService, Attachment
from aizoomdoc.pipeline.events import AskEvent, AskResult, ImageInfo, StageEvent, TokenEvent
from aizoomdoc.texts import t


def image_location(service: AskService, image: ImageInfo) -> str:
    """Where a user finds the image: a local path for the folder backend, else the URL."""
    if service.files.backend == "local":
        return str(Path(service.files.location) / image.s3_path)
    return image.s3_url or image.s3_path


def print_result(service: AskService, result: AskResult, *, streamed: bool) -> None:
    if not streamed:
        console.print(f"[bold]{t('cli.ask.answer')}:[/]", highlight=False)
        console.print(result.answer, highlight=False, markup=False, soft_wrap=True)
    else:
        console.print()
    if result.citations:
        console.print(f"\n[bold]{t('cli.ask.citations')}:[/]", highlight=False)
        for c in result.citations:
            line = (t("cli.ask.citation", page=c.page_number, block_id=c.block_id, title=c.document_title)
                    if c.document_title else
                    t("cli.ask.citation_untitled", page=c.page_number, block_id=c.block_id,
                      document_id=c.document_id))
            console.print("  • " + line, highlight=False, markup=False, soft_wrap=True)
    if result.images:
        console.print(f"\n[bold]{t('cli.ask.images')}:[/]", highlight=False)
        for im in result.images:
            page = t("cli.ask.image_page", page=im.page_number) if im.page_number else ""
            console.print("  • " + t("cli.ask.image", label=im.label or im.image_type, image_type=im.image_type,
                                     page=page, width=im.width, height=im.height,
                                     where=image_location(service, im)),
                          highlight=False, markup=False, soft_wrap=True)
    console.print("\n" + t("cli.ask.chat", chat_id=result.chat_id), style="dim", highlight=False, soft_wrap=True)


def print_offline_notice(service: AskService) -> None:
    """One line when the answer was kept locally because PostgreSQL or S3 is unreachable."""
    store, files = service.store, service.files
    db_state = store.offline_state() if store.is_offline else None
    if db_state is not None:
        err_console.print(f"[yellow]⚠ {t('offline.db', pending=db_state['pending'])}[/]", highlight=False)
    files_state = files.offline_state() if files.is_offline else None
    if files_state is not None:
        err_console.print(f"[yellow]⚠ {t('offline.s3', pending=files_state['pending_files'])}[/]",
                          highlight=False)


async def print_archived_notice(service: AskService, chat_id: str) -> None:
    """⚠ when the continued chat is archived: it stays archived (a message does not undo it), so it
    is not in `chats list` without --archived."""
    try:
        row = await service.store.get_chat(chat_id)
    except AizoomdocError:  # the answer is printed; this note is not worth an error
        return
    if row and row.get("is_archived"):
        err_console.print(f"[yellow]⚠ {t('cli.ask.archived', chat_id=chat_id)}[/]", highlight=False)


@app.command("ask")
def ask_command(
    question: str = typer.Argument(..., help=t("cli.ask.ask.question.help")),
    doc: list[str] = typer.Option([], "--doc", "-d", help=t("cli.ask.ask.doc.help")),
    chat: str | None = typer.Option(None, "--chat", "-c", help=t("cli.ask.ask.chat.help")),
    image: list[Path] = typer.Option([], "--image", "-i", help=t("cli.ask.ask.image.help")),
    as_json: bool = typer.Option(False, "--json", help=t("cli.opt.as_json.help")),
    user: str | None = typer.Option(None, "--user", help=t("cli.opt.user.help")),
) -> None:
    """Ответить на вопрос по документам: поиск, увеличенные области, ответ со ссылками."""
    if chat is not None and not chat.strip():  # `--chat ""` (an unset shell variable) is not "no chat"
        fail(f"{t('store.bad_id', field='--chat', value=chat)} {t('cli.hint.chats_list')}")

    async def run() -> AskResult:
        settings = get_settings()
        attachments = [Attachment.from_path(p) for p in image]
        streamed = False

        def progress(event: AskEvent) -> None:
            nonlocal streamed
            if as_json:
                return
            if isinstance(event, StageEvent) and event.status == "start" and event.stage != "save":
                err_console.print(f"[dim]… {event.message}[/]", highlight=False)
            elif isinstance(event, TokenEvent):
                if not streamed:
                    console.print(f"[bold]{t('cli.ask.answer')}:[/]", highlight=False)
                    streamed = True
                console.print(event.text, end="", highlight=False, markup=False, soft_wrap=True)

        async with AskService(settings) as service:
            result = await service.ask(question, doc, chat_id=chat, user_id=user,
                                       attachments=attachments, on_event=progress)
            if as_json:
                typer.echo(json.dumps(result.public(), ensure_ascii=False, indent=2))
            elif not result.error:
                print_result(service, result, streamed=streamed)
            if not as_json:
                print_offline_notice(service)
                if chat:
                    await print_archived_notice(service, result.chat_id)
        return result

    result = run_async(run)
    if result.error:
        fail(result.error)


# --- aizoomdoc doctor ------------------------------------------------------------------------------
@register_check("llm", order=40)
async def check_llm(ctx: DoctorContext) -> CheckResult:
    """No LLM_API_KEY: the direct answerer (✔). Otherwise ``GET {LLM_BASE_URL}/models`` once."""
    from aizoomdoc.llm import provider_from_settings
    from aizoomdoc.llm.openai_compat import OpenAICompatProvider, display_url

    assert ctx.settings is not None
    provider = provider_from_settings(ctx.settings)
    if provider is None:
        return CheckResult.ok_(t("doctor.llm.direct"))
    assert isinstance(provider, OpenAICompatProvider)
    try:
        found = await provider.check(timeout=5.0)
    except LLMError as exc:
        return CheckResult.fail(str(exc))  # names LLM_API_KEY or LLM_BASE_URL
    finally:
        await provider.aclose()
    model = provider.model
    listed = found.has_model(model)
    if listed is None:
        note = t("doctor.llm.model_unknown", model=model)
    elif listed:
        note = t("doctor.llm.model_listed", model=model)
    else:
        note = t("doctor.llm.model_missing", model=model, count=len(found.models or ()))
    keyless = (ctx.settings.secret("llm_api_key") or "").strip().lower() == "none"
    auth = t("doctor.llm.no_key") if keyless else t("doctor.llm.key_accepted")
    return CheckResult.ok_(t("doctor.llm.ok", url=display_url(provider.base_url), auth=auth,
                             elapsed=round(found.elapsed_ms), model_note=note))
