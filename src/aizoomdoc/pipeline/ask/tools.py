"""The model's tools for one turn: zooms and block images are rendered, uploaded and queued for
recording against the assistant message; searches are stored as search results.

The executor works through public parts only — :class:`~aizoomdoc.pipeline.ask.views.Views`
(images), :class:`~aizoomdoc.pipeline.ask.records.TurnRecords` (search results) and a search
function — so it can be built and tested without the service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aizoomdoc.documents.model import Document
from aizoomdoc.llm import ToolResult
from aizoomdoc.llm.context import clean_text, shorten
from aizoomdoc.llm.tools import REQUEST_IMAGES, SEARCH, ZOOM
from aizoomdoc.pipeline.ask.records import TurnRecords
from aizoomdoc.pipeline.ask.turn import Emit, Turn
from aizoomdoc.pipeline.ask.views import Views
from aizoomdoc.pipeline.events import ToolEvent
from aizoomdoc.pipeline.sources import FoundBlock
from aizoomdoc.texts import t
from aizoomdoc.zoom import PlanOptions, ZoomRefusal, resolve_zoom
from aizoomdoc.zoom.plan import pad_box
from aizoomdoc.zoom.render import RenderLimitError

#: The model's search: (documents, query) → hits, table cells already turned into their rows.
SearchFn = Callable[[Sequence[Document], str], Awaitable[list[FoundBlock]]]


class Executor:
    """Runs the model's tool calls for one turn (a :class:`~aizoomdoc.llm.tools.ToolExecutor`)."""

    def __init__(self, turn: Turn, emit: Emit, *, views: Views, records: TurnRecords, search: SearchFn) -> None:
        self.turn, self.emit = turn, emit
        self.views, self.records, self.search = views, records, search

    async def execute(self, name: str, args: dict[str, Any]) -> ToolResult:
        if name == ZOOM:
            result = await self._zoom(args)
        elif name == REQUEST_IMAGES:
            result = await self._request_images(args)
        elif name == SEARCH:
            result = await self._search(args)
        else:  # the loop filters unknown tools; keep a safe answer anyway
            result = ToolResult(t("tool.error.unknown_tool", name=name, known="zoom, request_images, search"))
        await self.emit(ToolEvent(name, args, result.text[:500]))
        return result

    async def _zoom(self, args: dict[str, Any]) -> ToolResult:
        turn = self.turn
        counts = {d.id: await self.views.page_count(d) for d in turn.documents}
        default = turn.documents[0].id if len(turn.documents) == 1 else None
        target = resolve_zoom(args, turn.refs, counts, default)
        if isinstance(target, ZoomRefusal):
            return ToolResult(target.message)
        doc = turn.by_id[target.document_id]
        if not doc.can_render:
            return ToolResult(t("zoom.refuse.no_pdf", document_id=doc.id))
        min_dpi = target.min_dpi * 1.5 if target.min_dpi else None
        page = target.page_index + 1
        caption = t("ask.caption.zoom_of", source=target.source_image, page=page) if target.source_image \
            else t("common.page", page=page)
        try:
            image = await self.views.model_image(turn, doc, target.page_index, target.bbox_norm,
                                                  caption=caption, min_dpi=min_dpi, emit=self.emit)
        except RenderLimitError as exc:
            return ToolResult(str(exc))
        except (IndexError, ValueError, RuntimeError) as exc:
            return ToolResult(t("zoom.refuse.render_failed", detail=str(exc)[:100]))
        return ToolResult(self.views.zoom_done_text(turn, image.label), [image])

    async def _request_images(self, args: dict[str, Any]) -> ToolResult:
        turn = self.turn
        ids = args.get("block_ids")
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not ids:
            return ToolResult(t("tool.request_images.no_blocks"))
        texts, images = [], []
        for raw in ids[:4]:
            block_id = str(raw).strip()
            # a table row is known by its row id (p3-r2) from the hits
            found = next((f for f in [*turn.hits, *turn.found_later.values()] if f.block.id == block_id), None)
            for d in turn.documents if found is None else ():
                b = d.block(block_id)
                if b is not None:
                    found = FoundBlock(d, b, 0.0)
                    break
            if found is None:
                texts.append(t("tool.request_images.unknown_block", block_id=block_id))
                continue
            turn.found_later.setdefault((found.document.id, found.block.id), found)
            doc, b = found.document, found.block
            texts.append(t("tool.request_images.block_text", block_id=b.id, page=b.page_number,
                             text=shorten(clean_text(b.text), 3000)))
            if not doc.can_render or not b.has_coords:
                texts.append(t("zoom.refuse.no_pdf", document_id=doc.id))
                continue
            w, h = await self.views.page_size(doc, b.page_index)
            box = pad_box(tuple(b.coords_norm), w / h if h else 1.0, PlanOptions())  # type: ignore[arg-type]
            try:
                img = await self.views.model_image(turn, doc, b.page_index, box,
                                                   caption=t("ask.caption.block", block_id=b.id, page=b.page_number),
                                                   min_dpi=None, outline=[b.coords_norm], emit=self.emit)
            except RenderLimitError as exc:
                texts.append(str(exc))
                continue
            images.append(img)
            texts.append(self.views.zoom_done_text(turn, img.label))
        if images:
            texts.append(t("tool.request_images.done", ids=", ".join(i.label for i in images)))
        return ToolResult("\n".join(texts), images)

    async def _search(self, args: dict[str, Any]) -> ToolResult:
        turn = self.turn
        query = str(args.get("query") or "").strip()
        if not query:
            return ToolResult(t("tool.search.empty_query"))
        found = await self.search(turn.documents, query)
        if not found:
            return ToolResult(t("tool.search.nothing", query=query))
        await self.records.store_hits(turn, found)
        lines = []
        for n, f in enumerate(found, 1):
            turn.found_later.setdefault((f.document.id, f.block.id), f)
            lines.append(t("tool.search.hit", n=n, page=f.block.page_number, block_id=f.block.id,
                           text=shorten(clean_text(f.block.text), 300)))
        return ToolResult("\n".join(lines))
