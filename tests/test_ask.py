"""The whole question-to-answer flow, persisted step by step, against the scripted LLM server."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from aizoomdoc.config import Settings
from aizoomdoc.errors import InvalidInputError, NotFoundError
from aizoomdoc.pipeline.ask import AskService, Attachment
from aizoomdoc.pipeline.events import AnswerEvent, AskEvent, ErrorEvent, HitsEvent, ImageEvent, StageEvent, TokenEvent
from aizoomdoc.sample import SyntheticSet, build_drawing_set, write_bundle_fixtures
from tests.support.llm_server import ScriptedLLM, delay, error, garbage, text, tool_call, tool_calls

QUESTION = "Какая толщина утеплителя кровли П-1?"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticSet, dict[str, Path]]:
    s = build_drawing_set()
    paths = write_bundle_fixtures(tmp_path_factory.mktemp("set"), s, formats=("result",))
    return s, paths


@pytest.fixture()
def bundle(synthetic: tuple[SyntheticSet, dict[str, Path]]) -> Path:
    return synthetic[1]["result"]


@pytest.fixture()
def roof(synthetic: tuple[SyntheticSet, dict[str, Path]]) -> Any:
    """The block holding the roof build-up (the answer to QUESTION)."""
    return next(r for r in synthetic[0].regions if "Утеплитель кровли П-1" in r.text and r.block_type == "text")


def llm_settings(settings: Settings, llm: ScriptedLLM, **kw: Any) -> Settings:
    values = dict(llm_base_url=llm.base_url, llm_api_key="sk-test", llm_model="vision/test",
                  llm_timeout=2.0, llm_max_retries=2, llm_retry_backoff=0.01, llm_retry_backoff_max=0.05)
    values.update(kw)
    return Settings(_env_file=None, data_dir=settings.data_dir, **values)


async def turn_rows(service: AskService, chat_id: str) -> dict[str, Any]:
    return await service.store.get_chat_history(chat_id)


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


# --- direct (no LLM) -----------------------------------------------------------------------------

async def test_direct_answer_cites_the_right_page_and_persists_every_step(settings: Settings, bundle: Path,
                                                                           roof: Any) -> None:
    events: list[Any] = []
    async with AskService(settings) as service:
        assert not service.provider.uses_model  # no key: the direct answerer
        result = await service.ask(QUESTION, [str(bundle)], on_event=events.append)
        hist = await turn_rows(service, result.chat_id)
        stored_files = [await service.files.read_bytes(im.s3_path) for im in result.images]

    assert result.ok and result.offline and result.message_type == "text"
    assert "без языковой модели" in result.answer
    assert "150 мм" in result.answer
    # the roof block is cited with its page
    assert any(c.block_id == roof.id and c.page_number == roof.page_index + 1 for c in result.citations)
    assert f"Стр. {roof.page_index + 1}, блок {roof.id}" in result.answer
    # spec rows of other units (П11, В21) that share only "Кровля" with the question are counted,
    # not listed or cited
    assert "П11" not in result.answer and "В21" not in result.answer
    assert "низкой релевантностью" in result.answer
    assert all(c.page_number != 3 for c in result.citations)

    user, asst = hist["messages"]
    assert user["role"] == "user" and user["content"] == QUESTION
    assert asst["role"] == "assistant" and asst["model"] == "offline-extractive"
    assert asst["metadata"]["citations"] and asst["metadata"]["offline"] is True
    # hits stored against the user message with block, page and coordinates
    hits = user["search_results"]
    roof_hit = next(h for h in hits if h["block_id"] == roof.id)
    assert roof_hit["page_number"] == roof.page_index + 1
    assert roof_hit["coords_norm"] == pytest.approx(list(roof.coords_norm), abs=1e-5)
    # viewports uploaded and recorded against the user message; the files are really there
    viewports = user["images"]
    assert viewports and all(im["image_type"] == "viewport" for im in viewports)
    # ... only where the answer points: none for the hidden weak hits (page 3's spec rows)
    assert {im["page_number"] for im in viewports} == {c.page_number for c in result.citations}
    assert {im["id"] for im in viewports} == {im.id for im in result.images}
    assert all(data[:4] == b"\x89PNG" for data in stored_files)
    assert all(im["width"] and im["height"] and im["page_number"] and im["coords_norm"] for im in viewports)
    # progress events: ordered stages, images, then exactly one answer at the end
    stages = [(e.stage, e.status) for e in events if isinstance(e, StageEvent)]
    assert [s for s, st in stages if st == "start"] == ["documents", "chat", "search", "viewports", "llm", "save"]
    assert sum(isinstance(e, ImageEvent) for e in events) == len(result.images)
    assert isinstance(events[-1], AnswerEvent) and events[-1].result.message_id == result.message_id


async def test_follow_up_continues_the_chat_with_history_from_the_store(settings: Settings, bundle: Path) -> None:
    async with AskService(settings) as service:
        first = await service.ask(QUESTION, [str(bundle)])
        with ScriptedLLM([text("Да, 150 мм.")]) as llm:
            service.provider = _provider(llm)
            second = await service.ask("А пароизоляция?", chat_id=first.chat_id)  # documents from the chat
            await service.provider.aclose()
        hist = await turn_rows(service, first.chat_id)
    assert second.chat_id == first.chat_id
    assert [m["role"] for m in hist["messages"]] == ["user", "assistant", "user", "assistant"]
    sent = llm.requests[0]
    roles = [m["role"] for m in sent.messages]
    assert roles[:3] == ["system", "user", "assistant"]  # the earlier turn, read back from the store
    assert sent.messages[1]["content"] == QUESTION
    # the earlier turn's images are not sent again: only this turn's viewports
    assert len(sent.image_urls) == len([i for i in second.images if i.image_type == "viewport"])


async def test_unknown_chat_and_empty_question_write_nothing(settings: Settings, bundle: Path) -> None:
    async with AskService(settings) as service:
        with pytest.raises(NotFoundError):
            await service.ask(QUESTION, [str(bundle)], chat_id="00000000-0000-4000-8000-000000000000")
        with pytest.raises(InvalidInputError):
            await service.ask("  ", [str(bundle)])
        with pytest.raises(NotFoundError):
            await service.ask(QUESTION, ["no-such-document"])
        assert await service.store.get_chats(settings.default_user_id) == []


async def test_bundle_without_pdf_gives_text_and_says_so(settings: Settings, synthetic: Any,
                                                          tmp_path: Path, roof: Any) -> None:
    lonely = tmp_path / "alone" / synthetic[1]["result"].name
    lonely.parent.mkdir()
    lonely.write_bytes(synthetic[1]["result"].read_bytes())
    async with AskService(settings) as service:
        result = await service.ask(QUESTION, [str(lonely)])
    assert result.ok and result.images == []
    assert "нет PDF" in result.answer and "только текст и координаты" in result.answer
    assert any(c.block_id == roof.id for c in result.citations)


async def test_user_attachment_is_stored_and_recorded(settings: Settings, bundle: Path) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, format="PNG")
    async with AskService(settings) as service:
        result = await service.ask(QUESTION, [str(bundle)], attachments=[Attachment("мой кроп.png", buf.getvalue())])
        hist = await turn_rows(service, result.chat_id)
        up = next(i for i in result.images if i.image_type == "user_upload")
        assert await service.files.read_bytes(up.s3_path) == buf.getvalue()
    assert up.width == 40 and up.height == 30
    assert up.message_id == hist["messages"][0]["id"]
    with pytest.raises(InvalidInputError):
        async with AskService(settings) as service:
            await service.ask(QUESTION, [str(bundle)], attachments=[Attachment("x.png", b"not an image")])


# --- with the model --------------------------------------------------------------------------------

def _provider(llm: ScriptedLLM, **kw: Any):
    from aizoomdoc.llm.openai_compat import OpenAICompatProvider

    opts: dict[str, Any] = dict(base_url=llm.base_url, model="vision/test", api_key="sk-test", timeout=2.0,
                                max_retries=2, backoff=0.01, backoff_max=0.05)
    opts.update(kw)
    return OpenAICompatProvider(**opts)


async def test_model_zooms_twice_then_answers(settings: Settings, bundle: Path, roof: Any) -> None:
    script = [
        tool_call("zoom", {"image_id": "v1", "cell": "B2"}, content="Смотрю ближе."),
        tool_call("zoom", {"image_id": "z1", "bbox": [0.0, 0.0, 0.6, 0.6]}),
        text(f"Утеплитель кровли П-1 — минераловатные плиты 150 мм [стр. {roof.page_index + 1}, блок {roof.id}]."),
    ]
    events: list[Any] = []
    with ScriptedLLM(script) as llm:
        async with AskService(llm_settings(settings, llm)) as service:
            result = await service.ask(QUESTION, [str(bundle)], on_event=events.append)
            hist = await turn_rows(service, result.chat_id)
            zooms = [i for i in result.images if i.image_type == "zoom_crop"]
            zoom_bytes = [await service.files.read_bytes(z.s3_path) for z in zooms]

    assert result.ok and not result.offline and "150 мм" in result.answer
    assert [c.block_id for c in result.citations] == [roof.id]
    user, asst = hist["messages"]
    # each zoom: rendered, stored, recorded against the assistant message
    assert [z.label for z in zooms] == ["z1", "z2"]
    assert [im["image_type"] for im in asst["images"]] == ["zoom_crop", "zoom_crop"]
    assert all(im["message_id"] == result.message_id for im in asst["images"])
    assert all(im["image_type"] == "viewport" for im in user["images"])
    # z2 zooms into z1: deeper, inside z1's region of the page
    z1, z2 = asst["images"]
    assert z1["coords_norm"][0] <= z2["coords_norm"][0] and z2["coords_norm"][2] <= z1["coords_norm"][2] + 1e-6
    assert z2["coords_norm"][2] - z2["coords_norm"][0] < z1["coords_norm"][2] - z1["coords_norm"][0]
    # ... and sent back to the model, as the very bytes stored
    r1, r2, r3 = llm.requests
    assert data_url(zoom_bytes[0]) not in r1.image_urls
    assert data_url(zoom_bytes[0]) in r2.image_urls
    assert data_url(zoom_bytes[1]) in r3.image_urls
    tool_texts = [m["content"] for m in r3.messages if m["role"] == "tool"]
    assert tool_texts[0].startswith("Изображение z1") and tool_texts[1].startswith("Изображение z2")
    # model, usage and citations stored with the answer
    assert asst["model"] == "scripted/model" and asst["message_type"] == "text"
    assert asst["metadata"]["usage"]["total_tokens"] == 110 + 110 + 120
    assert asst["metadata"]["citations"][0]["block_id"] == roof.id
    # tokens streamed, tool and image events emitted
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)).endswith(f"блок {roof.id}].")
    assert sum(isinstance(e, ImageEvent) and e.image.image_type == "zoom_crop" for e in events) == 2


async def test_payloads_respect_image_and_character_limits(settings: Settings, bundle: Path) -> None:
    script = [tool_call("zoom", {"image_id": "v1", "cell": "A1"}),
              tool_call("zoom", {"image_id": "v1", "cell": "B2"}),
              tool_call("search", {"query": "спецификация оборудования П1"}),
              text("Готово.")]
    with ScriptedLLM(script) as llm:
        s = llm_settings(settings, llm, llm_max_images_per_call=2, llm_max_chars_per_call=3000)
        events: list[AskEvent] = []
        async with AskService(s) as service:
            result = await service.ask("Найди всё вентиляционное оборудование П1 В2 утеплитель", [str(bundle)],
                                       on_event=events.append)
    assert result.ok
    assert len(llm.requests) == 4
    for r in llm.requests:
        assert len(r.image_urls) <= 2
        assert r.chars <= 3000
    # every hit of the first call is present (shortened if needed)
    first = next(e for e in events if isinstance(e, HitsEvent)).hits
    assert len(first) >= 5
    for hit in first:
        assert f"блок {hit['block_id']}" in llm.requests[0].all_text()


async def _hits(settings: Settings, chat_id: str) -> list[dict[str, Any]]:
    async with AskService(settings, provider=None) as service:
        return await service.store.get_search_results(chat_id)


async def test_bad_zooms_are_refused_with_advice_and_the_turn_goes_on(settings: Settings, bundle: Path) -> None:
    script = [tool_calls([("zoom", {"page": 1, "bbox": [0.5, 0.5, 1.7, 0.9]}),
                          ("zoom", {"image_id": "v42", "cell": "A1"}),
                          ("zoom", {"page": 99, "bbox": [0.1, 0.1, 0.2, 0.2]})]),
              text("Ответ по тексту.")]
    with ScriptedLLM(script) as llm:
        async with AskService(llm_settings(settings, llm)) as service:
            result = await service.ask(QUESTION, [str(bundle)])
    assert result.ok and not [i for i in result.images if i.image_type == "zoom_crop"]
    tools = [m["content"] for m in llm.requests[1].messages if m["role"] == "tool"]
    assert "за пределы страницы 1" in tools[0]
    assert "изображения «v42» нет" in tools[1] and "v1" in tools[1]
    assert "страницы 99 нет" in tools[2]


@pytest.mark.parametrize(
    ("script", "default", "needle", "max_requests"),
    [
        ([garbage()], None, "некорректный ответ", 1),
        ([], delay(1.0), "не ответила", 3),
        ([], error(500, "internal"), "HTTP 500", 3),
        ([tool_call("zoom", "{broken"), tool_call("rotate", {})], None, "дважды подряд", 2),
    ],
    ids=["garbage", "timeout", "500-forever", "bad-tool-twice"],
)
async def test_model_failure_leaves_an_intact_chat_with_a_clear_error(
    settings: Settings, bundle: Path, script: list, default: Any, needle: str, max_requests: int
) -> None:
    events: list[Any] = []
    with ScriptedLLM(script, default=default) as llm:
        async with AskService(llm_settings(settings, llm, llm_timeout=0.3)) as service:
            result = await service.ask(QUESTION, [str(bundle)], on_event=events.append)
            hist = await turn_rows(service, result.chat_id)
    assert len(llm.requests) <= max_requests
    assert not result.ok and result.message_type == "error"
    assert needle in result.error and result.answer.startswith("Не удалось получить ответ")
    user, asst = hist["messages"]
    assert user["content"] == QUESTION and user["search_results"] and user["images"]
    assert asst["message_type"] == "error" and needle in asst["content"]
    assert asst["metadata"]["error"]["stage"] == "llm"
    assert isinstance(events[-1], ErrorEvent) and events[-1].message_id == asst["id"]
    assert not any(isinstance(e, AnswerEvent) for e in events)


async def test_stream_yields_events_until_the_answer(settings: Settings, bundle: Path) -> None:
    async with AskService(settings) as service:
        events = [e async for e in service.stream(QUESTION, [str(bundle)])]
        bad = [e async for e in service.stream(QUESTION, ["/no/such/file.pdf"])]
    assert isinstance(events[-1], AnswerEvent)
    assert json.dumps([e.to_dict() for e in events], ensure_ascii=False)  # JSON-serialisable for SSE
    assert len(bad) >= 1 and isinstance(bad[-1], ErrorEvent)


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("спецификация перемычек А3-13*", "А3-13*"),
        ("Приточная установка П1.1", "П1.1"),
        ("Общие указания: изоляция воздуховодов", "Изоляция воздуховодов"),
    ],
)
async def test_direct_answers_cite_the_right_pages_on_the_synthetic_set(
    settings: Settings, bundle: Path, synthetic: Any, question: str, needle: str
) -> None:
    expected = [r for r in synthetic[0].regions if needle in r.text]
    assert expected
    async with AskService(settings, provider=None) as service:
        result = await service.ask(question, [str(bundle)])
    # a table block is cited by the row that holds the code: "{block}-r{n}", one id per row
    cited = {(c.block_id.split("-r")[0] if "-r" in c.block_id else c.block_id, c.page_number)
             for c in result.citations}
    assert any((r.id, r.page_index + 1) in cited for r in expected)
    top = result.citations[0]
    assert top.page_number in {r.page_index + 1 for r in expected}
    assert f"Стр. {top.page_number}, блок {top.block_id}" in result.answer
