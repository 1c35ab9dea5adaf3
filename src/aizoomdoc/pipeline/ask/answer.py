"""Step 12: the provider answers. The one place where a language model and the direct answerer
(no model, :class:`~aizoomdoc.llm.direct.DirectProvider`) are told apart for the answer itself:

* which hits they see — a direct (not list) answer shows only the strong hits and names hits for
  look-alike codes apart (:func:`shown_hits`); a model and list answers see every hit;
* the notes — a model also gets the revision summary as a note (:func:`turn_notes`);
* the answer — the tool loop with a prompt, the history and the images for a model; the
  extractive answer (or the revision summary) otherwise (:func:`provider_answer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.documents.read_warnings import unreadable_note
from aizoomdoc.llm import LLMProvider, LoopLimits, LoopResult, run_tool_loop, uses_model
from aizoomdoc.llm.context import HitContext, ViewImage, build_user_content
from aizoomdoc.llm.direct import DirectProvider, split_by_codes, strong_hits
from aizoomdoc.llm.history import build_history
from aizoomdoc.llm.prompts import load_prompt
from aizoomdoc.llm.tools import ToolExecutor
from aizoomdoc.pipeline.ask.hits import display_text
from aizoomdoc.pipeline.ask.turn import Emit, Turn
from aizoomdoc.pipeline.compare_chat import RevisionTurn
from aizoomdoc.pipeline.events import TokenEvent
from aizoomdoc.pipeline.notes import document_notes
from aizoomdoc.pipeline.sources import FoundBlock
from aizoomdoc.texts import t


def shown_hits(provider: LLMProvider, turn: Turn, list_mode: bool) -> tuple[list[FoundBlock], list[FoundBlock]]:
    """(hits shown, hits for look-alike codes). A direct (not list) answer shows only the strong
    hits (and counts the rest): no viewports or contexts for the ones it hides; hits for other
    codes than the question's (П1.1 when asked about П1) are named under «Похожие обозначения»,
    without images. Sets ``turn.similar``."""
    if uses_model(provider) or list_mode:
        return turn.hits, []
    shown, similar = split_by_codes(strong_hits(turn.hits), turn.question, key=lambda f: display_text(f.block))
    turn.similar = {(f.document.id, f.block.id) for f in similar}
    return shown, similar


def turn_notes(provider: LLMProvider, turn: Turn, revision: RevisionTurn | None) -> list[str]:
    """What the answer must say about the documents (text-only, still processing, unreadable pages)."""
    notes = [t("ask.text_only", title=d.title) for d in turn.documents if not d.can_render]
    notes += document_notes(turn.documents)  # still processing; pages OCR could not read, and why
    notes += [note for d in turn.documents if (note := unreadable_note(d))]  # pages without text, no OCR
    notes += [revision.summary] if revision and uses_model(provider) else []
    return notes


async def provider_answer(
    provider: LLMProvider,
    settings: Settings,
    turn: Turn,
    *,
    contexts: Sequence[HitContext],
    similar: Sequence[HitContext],
    hidden: int,
    view_images: Sequence[ViewImage],
    upload_images: Sequence[ViewImage],
    notes: list[str],
    list_mode: bool,
    revision: RevisionTurn | None,
    history_rows: list[dict[str, Any]],
    executor: ToolExecutor,
    emit: Emit,
) -> LoopResult:
    """The answer of ``provider``; streamed tokens (the whole answer at once without a model) are
    emitted as :class:`TokenEvent`."""
    if not uses_model(provider):
        if revision is not None:
            loop = revision.loop()
        else:
            assert isinstance(provider, DirectProvider)
            loop = provider.answer(turn.question, contexts, [im.label for im in [*view_images, *upload_images]],
                                   notes=notes, list_mode=list_mode, similar=similar, hidden=hidden)
        await emit(TokenEvent(loop.answer))
        return loop
    s = settings
    system = load_prompt("system_ru")
    summary, history = build_history(history_rows, keep_last=s.llm_history_messages)
    if summary:
        system += "\n\n" + summary
    hist_chars = sum(len(m["content"]) for m in history)
    budget = max(1000, min(s.llm_context_chars, int(s.llm_max_chars_per_call * 0.7) - len(system) - hist_chars))
    content = build_user_content(
        turn.question, list(contexts), [*upload_images, *view_images], char_budget=budget,
        notes=[*notes, t("ask.list_note")] if list_mode else notes,
        documents=[(d.id, d.title, len(d.pages)) for d in turn.documents],
    )

    async def on_token(text: str) -> None:
        await emit(TokenEvent(text))

    loop = await run_tool_loop(
        provider, system_prompt=system, user_content=content, executor=executor, history=history,
        limits=LoopLimits.from_settings(s), on_token=on_token,
    )
    if notes and not any(n in loop.answer for n in notes):
        loop.answer += "\n\n" + "\n".join(notes)
    return loop
