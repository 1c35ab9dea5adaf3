"""LLM providers and the tool loop against the scripted OpenAI-compatible server."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from aizoomdoc.errors import LLMError
from aizoomdoc.llm import LLMProvider, LoopLimits, ToolImage, ToolResult, answering_provider, run_tool_loop, uses_model
from aizoomdoc.llm.base import count_chars, count_images, image_part, text_part
from aizoomdoc.llm.context import HitContext, ViewImage, build_user_content, fair_shares
from aizoomdoc.llm.direct import DirectProvider, direct_answer
from aizoomdoc.llm.history import build_history
from aizoomdoc.llm.loop import fit_messages
from aizoomdoc.llm.openai_compat import OpenAICompatProvider, iter_sse, parse_retry_after
from tests.support.llm_server import ScriptedLLM, delay, error, garbage, text, tool_call, tool_calls

KEY = "sk-test-SECRET-123"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def provider(llm: ScriptedLLM, **kw: Any) -> OpenAICompatProvider:
    opts: dict[str, Any] = dict(base_url=llm.base_url, model="m", api_key=KEY, timeout=2.0,
                                max_retries=2, backoff=0.01, backoff_max=0.05)
    opts.update(kw)
    return OpenAICompatProvider(**opts)


class FakeExecutor:
    """Answers zooms with a tiny image labelled z1, z2, …"""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def execute(self, name: str, args: dict[str, Any]) -> ToolResult:
        self.calls.append((name, args))
        n = len(self.calls)
        if name == "zoom":
            return ToolResult(f"Изображение z{n} приложено", [ToolImage(f"z{n}", PNG + bytes([n]), "image/png", f"zoom {n}")])
        return ToolResult("ничего")


USER = [text_part("Вопрос: толщина утеплителя?"), text_part("Изображение v1"), image_part(PNG, label="v1")]


# --- provider --------------------------------------------------------------------------------

async def test_plain_and_streamed_answers_with_usage() -> None:
    with ScriptedLLM([text("Толщина 150 мм [стр. 2, блок AAAA-BBBB-CCC]"), text("Поток из слов")]) as llm:
        p = provider(llm)
        msg = await p.chat([{"role": "user", "content": "q"}])
        assert msg.content.startswith("Толщина 150 мм") and msg.usage and msg.usage.total_tokens == 120
        tokens: list[str] = []
        msg2 = await p.chat([{"role": "user", "content": "q"}], stream=True, on_token=tokens.append)
        await p.aclose()
    assert tokens == ["Поток", " из", " слов"] and msg2.content == "Поток из слов"
    assert msg2.usage and msg2.usage.prompt_tokens == 100
    assert llm.requests[0].headers.get("Authorization") == f"Bearer {KEY}"
    assert llm.requests[1].body["stream"] is True


async def test_streamed_tool_call_is_reassembled() -> None:
    with ScriptedLLM([tool_calls([("zoom", {"image_id": "v1", "cell": "B2"}), ("search", {"query": "П-1"})])]) as llm:
        p = provider(llm)
        msg = await p.chat([{"role": "user", "content": "q"}], stream=True)
        await p.aclose()
    assert [c.name for c in msg.tool_calls] == ["zoom", "search"]
    assert msg.tool_calls[0].parse_arguments() == {"image_id": "v1", "cell": "B2"}
    assert msg.tool_calls[1].parse_arguments() == {"query": "П-1"}


async def test_429_is_retried_honouring_retry_after() -> None:
    with ScriptedLLM([error(429, "slow down", retry_after="0.2"), text("ok")]) as llm:
        p = provider(llm, backoff_max=1.0)
        t0 = time.monotonic()
        msg = await p.chat([{"role": "user", "content": "q"}])
        await p.aclose()
    assert msg.content == "ok" and len(llm.requests) == 2
    assert time.monotonic() - t0 >= 0.2


async def test_500_forever_is_bounded_and_clear(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with ScriptedLLM(default=error(500, f"boom {KEY}")) as llm:
        p = provider(llm, max_retries=3)
        with pytest.raises(LLMError) as ei:
            await p.chat([{"role": "user", "content": "q"}])
        await p.aclose()
    assert len(llm.requests) == 4  # 1 + 3 retries
    assert "HTTP 500" in str(ei.value) and "4 попыток" in str(ei.value)
    assert KEY not in str(ei.value) and KEY not in caplog.text


async def test_timeout_is_bounded_and_clear() -> None:
    with ScriptedLLM(default=delay(1.0)) as llm:
        p = provider(llm, timeout=0.2, max_retries=1)
        t0 = time.monotonic()
        with pytest.raises(LLMError) as ei:
            await p.chat([{"role": "user", "content": "q"}])
        await p.aclose()
    assert time.monotonic() - t0 < 1.5
    assert "не ответила" in str(ei.value) and len(llm.requests) == 2


@pytest.mark.parametrize("bad", [garbage(), garbage("{not json", sse=True), garbage('{"choices": []}')])
async def test_garbage_is_a_clear_error(bad: dict) -> None:
    with ScriptedLLM([bad]) as llm:
        p = provider(llm)
        with pytest.raises(LLMError) as ei:
            await p.chat([{"role": "user", "content": "q"}], stream=True)
        await p.aclose()
    assert "некорректный ответ" in str(ei.value)


async def test_bad_key_is_not_retried_and_not_shown() -> None:
    with ScriptedLLM(default=error(401, f"invalid key {KEY}")) as llm:
        p = provider(llm)
        with pytest.raises(LLMError) as ei:
            await p.chat([{"role": "user", "content": "q"}])
        await p.aclose()
    assert len(llm.requests) == 1 and "LLM_API_KEY" in str(ei.value) and KEY not in str(ei.value)
    assert KEY not in repr(p)


async def test_sse_parser_and_retry_after() -> None:
    async def lines():
        for line in [": comment", "data: a", "data: b", "", "event: x", "data: c", ""]:
            yield line
    assert [x async for x in iter_sse(lines())] == ["a\nb", "c"]
    assert parse_retry_after("3") == 3.0 and parse_retry_after(None) is None


# --- the loop ---------------------------------------------------------------------------------

async def test_loop_zooms_twice_then_answers_and_sends_the_zooms_back() -> None:
    script = [tool_call("zoom", {"image_id": "v1", "cell": "B2"}),
              tool_call("zoom", {"image_id": "z1", "bbox": [0, 0, 0.5, 0.5]}),
              text("Утеплитель 150 мм [стр. 1, блок X]")]
    with ScriptedLLM(script) as llm:
        p = provider(llm)
        ex = FakeExecutor()
        tokens: list[str] = []
        res = await run_tool_loop(p, system_prompt="sys", user_content=USER, executor=ex,
                                  limits=LoopLimits(max_steps=10, max_images=6, max_chars=10000),
                                  on_token=tokens.append)
        await p.aclose()
    assert res.answer.startswith("Утеплитель 150 мм") and res.steps == 3
    assert [c[0] for c in ex.calls] == ["zoom", "zoom"]
    assert res.usage.total_tokens == 110 + 110 + 120
    r1, r2, r3 = llm.requests
    z1_url = image_part(PNG + b"\x01")["image_url"]["url"]
    z2_url = image_part(PNG + b"\x02")["image_url"]["url"]
    assert z1_url not in r1.image_urls and z1_url in r2.image_urls
    assert z1_url in r3.image_urls and z2_url in r3.image_urls
    # tool results answer the tool calls by id
    tool_msgs = [m for m in r3.messages if m["role"] == "tool"]
    assert len(tool_msgs) == 2 and all(m["tool_call_id"] for m in tool_msgs)
    assert "".join(tokens).endswith("[стр. 1, блок X]")
    # private keys never reach the wire
    assert "_label" not in str(r3.body) and "_anchor" not in str(r3.body)


async def test_loop_requests_respect_image_and_char_limits() -> None:
    script = [tool_call("zoom", {"image_id": "v1", "cell": "A1"}) for _ in range(4)] + [text("готово")]
    big_user = [text_part("Вопрос " + "слово " * 1500)] + [image_part(PNG, label=f"v{i}") for i in range(3)]
    with ScriptedLLM(script) as llm:
        p = provider(llm)
        await run_tool_loop(p, system_prompt="sys", user_content=big_user, executor=FakeExecutor(),
                            limits=LoopLimits(max_steps=10, max_images=2, max_chars=4000))
        await p.aclose()
    assert len(llm.requests) == 5
    for r in llm.requests:
        assert len(r.image_urls) <= 2
        assert r.chars <= 4000
    # the newest zoom is always among the images sent
    assert image_part(PNG + b"\x04")["image_url"]["url"] in llm.requests[4].image_urls
    assert "убрано из контекста" in llm.requests[4].all_text()


async def test_malformed_tool_call_gets_one_corrective_retry() -> None:
    with ScriptedLLM([tool_call("zoom", "{image_id: v1"), text("исправился")]) as llm:
        p = provider(llm)
        res = await run_tool_loop(p, system_prompt="s", user_content=USER, executor=FakeExecutor())
        await p.aclose()
    assert res.answer == "исправился"
    tool_msg = [m for m in llm.requests[1].messages if m["role"] == "tool"][0]
    assert "не являются корректным JSON" in tool_msg["content"]


async def test_malformed_twice_is_a_clear_failure() -> None:
    with ScriptedLLM([tool_call("zoom", "{oops"), tool_call("teleport", {"x": 1})]) as llm:
        p = provider(llm)
        with pytest.raises(LLMError) as ei:
            await run_tool_loop(p, system_prompt="s", user_content=USER, executor=FakeExecutor())
        await p.aclose()
    assert "дважды подряд" in str(ei.value)
    assert "инструмента «teleport» нет" not in str(ei.value)
    assert len(llm.requests) == 2


async def test_step_limit_forces_an_answer_without_tools() -> None:
    with ScriptedLLM([tool_call("search", {"query": "x"}), tool_call("search", {"query": "y"}),
                      text("итог")]) as llm:
        p = provider(llm)
        res = await run_tool_loop(p, system_prompt="s", user_content=USER, executor=FakeExecutor(),
                                  limits=LoopLimits(max_steps=3))
        await p.aclose()
    assert res.answer == "итог" and res.steps == 3
    assert [r.body.get("tool_choice") for r in llm.requests] == ["auto", "auto", "none"]
    assert "Лимит шагов" in llm.requests[2].all_text()


# --- pure helpers -------------------------------------------------------------------------------

def test_fit_messages_keeps_newest_images_and_the_question() -> None:
    msgs = [{"role": "system", "content": "s"},
            {"role": "user", "content": [text_part("Вопрос"), image_part(PNG, label="v1"),
                                         image_part(PNG, label="v2")], "_anchor": True},
            {"role": "tool", "tool_call_id": "a", "content": "x" * 5000},
            {"role": "user", "content": [image_part(PNG, label="z1")]}]
    out = fit_messages(msgs, max_images=2, max_chars=1200)
    assert count_images(out) == 2 and count_chars(out) <= 1200
    assert "v1" in out[1]["content"][1]["text"]  # oldest image replaced by a note naming it
    assert out[3]["content"][0]["type"] == "image_url"
    assert msgs[2]["content"] == "x" * 5000  # input untouched


def test_every_hit_is_in_the_context_within_budget() -> None:
    hits = [HitContext("d", f"B{i:03d}", i + 1, ("текст блока " * 300) if i % 2 else "П-1 150 мм")
            for i in range(10)]
    parts = build_user_content("Вопрос?", hits, [ViewImage("v1", PNG, "image/png", "стр. 1")],
                               char_budget=6000)
    body = parts[0]["text"]
    assert len(body) <= 6000
    for h in hits:
        assert f"блок {h.block_id}" in body
    assert body.count("П-1 150 мм") == 5  # short texts are kept whole
    assert fair_shares([10, 1000, 1000], 1010) == [10, 500, 500]


def test_history_carries_last_messages_and_a_short_summary() -> None:
    stored = []
    for i in range(6):
        stored.append({"role": "user", "content": f"вопрос {i} " + "а" * 3000, "message_type": "text"})
        stored.append({"role": "assistant", "content": f"ответ {i}", "message_type": "text"})
    stored.append({"role": "assistant", "content": "Ошибка модели", "message_type": "error"})
    summary, recent = build_history(stored, keep_last=4, message_chars=500, summary_chars=600)
    assert [m["role"] for m in recent] == ["user", "assistant", "user", "assistant"]
    assert recent[-1]["content"] == "ответ 5" and len(recent[0]["content"]) <= 500
    assert "Краткое содержание" in summary and len(summary) <= 700
    assert "ответ 3" in summary and "Ошибка модели" not in summary + str(recent)


def test_direct_answer_cites_pages_and_blocks_and_says_no_llm() -> None:
    hits = [HitContext("d", "AAAA-BBBB-CCC", 3, "<p>Утеплитель кровли П-1: 150 мм</p>", image_label="v1")]
    res = direct_answer("толщина П-1?", hits, ["v1"])
    assert "без языковой модели" in res.answer
    assert "Стр. 3, блок AAAA-BBBB-CCC" in res.answer and "<p>" not in res.answer
    assert "v1" in res.answer and res.model == "offline-extractive"
    nothing = direct_answer("что-то", [])
    assert "ничего не найдено" in nothing.answer


async def test_the_direct_answerer_is_a_provider_that_uses_no_model() -> None:
    provider = answering_provider(None)
    assert isinstance(provider, DirectProvider) and isinstance(provider, LLMProvider)
    assert not uses_model(provider) and provider.model == "offline-extractive"
    hits = [HitContext("d", "AAAA-BBBB-CCC", 3, "Утеплитель кровли П-1: 150 мм", image_label="v1")]
    assert provider.answer("толщина П-1?", hits, ["v1"]).answer == direct_answer("толщина П-1?", hits, ["v1"]).answer
    with pytest.raises(LLMError):  # it reads no conversation: the tool loop is for language models
        await provider.chat([{"role": "user", "content": "?"}])
    http = OpenAICompatProvider(base_url="http://127.0.0.1:9", model="m")
    assert uses_model(http) and answering_provider(http) is http
    await http.aclose()
