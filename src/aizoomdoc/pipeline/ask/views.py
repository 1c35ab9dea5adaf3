"""The images of a turn: steps 9–11 (viewports around the hits, rendered, uploaded and recorded on
the user message) and the images the model asks for in step 12 (zoom crops and block images,
rendered and uploaded at once, recorded later with the assistant message).

Documents are untrusted uploads: every render goes through the isolated renderer (a bounded
worker process) behind the content-keyed render cache.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

from aizoomdoc.config import Settings
from aizoomdoc.documents.model import Document
from aizoomdoc.llm import ToolImage
from aizoomdoc.llm.context import ViewImage
from aizoomdoc.pipeline.ask.hits import coords
from aizoomdoc.pipeline.ask.records import image_row
from aizoomdoc.pipeline.ask.turn import Emit, Pending, Turn
from aizoomdoc.pipeline.events import ImageEvent, ImageInfo
from aizoomdoc.pipeline.render_cache import RenderCache
from aizoomdoc.pipeline.sources import FoundBlock
from aizoomdoc.pipeline.table_hits import hit_text_sizes
from aizoomdoc.store.files import FileStorage, UploadItem
from aizoomdoc.store.protocol import ChatStoreProtocol
from aizoomdoc.texts import t
from aizoomdoc.zoom import HitBox, ImageRef, RenderedImage, grid_for
from aizoomdoc.zoom.isolated import IsolatedRenderer
from aizoomdoc.zoom.layout import LayoutOptions, RowHit, View, layout_views
from aizoomdoc.zoom.render import RenderLimitError

log = logging.getLogger(__name__)


def t_caption_viewport(view: View, img: RenderedImage) -> str:
    """The caption of a viewport, as the model reads it."""
    blocks = ", ".join(view.block_ids[:6]) + ("…" if len(view.block_ids) > 6 else "")
    if view.header_norm is not None:
        what = t("ask.caption.row_with_header", blocks=blocks)
    else:
        what = t("ask.caption.blocks", blocks=blocks)
    part = t(f"ask.caption.part.{view.part}") if view.part in ("key", "values") else ""
    grid = t("ask.caption.grid", last_cell=img.grid.last_cell) if img.grid else ""
    return t("ask.caption.viewport", page=view.page_number, what=what, part=part, grid=grid)


class Views:
    """Renders, uploads and records the images of a turn."""

    def __init__(self, settings: Settings, *, renderer: IsolatedRenderer, render_options: Any,
                 layout_options: LayoutOptions, render_cache: RenderCache, files: FileStorage,
                 store: ChatStoreProtocol) -> None:
        self.settings = settings
        self.renderer = renderer
        self.render_options = render_options
        self.layout_options = layout_options
        self.render_cache = render_cache
        self.files = files
        self.store = store

    async def page_size(self, doc: Document, page_index: int) -> tuple[float, float]:
        """A page's size in points (from the reader, else the renderer; 1×1 when unknown)."""
        page = doc.page(page_index)
        if page is not None and page.width > 0 and page.height > 0:
            return page.width, page.height
        if doc.can_render:
            try:
                sizes = await self.renderer.sheet(doc.render_path)  # type: ignore[arg-type]
                return sizes[page_index]
            except Exception:  # noqa: BLE001
                pass
        return 1.0, 1.0

    async def page_count(self, doc: Document) -> int:
        if doc.can_render:
            try:
                return len(await self.renderer.sheet(doc.render_path))  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001
                pass
        return max([p.page_index + 1 for p in doc.pages] or [0])

    async def render(self, doc: Document, page_index: int, box: Any, **kw: Any) -> RenderedImage:
        path = doc.render_path
        assert path is not None
        return await self.render_cache.get_or_render(  # cached by content (pipeline/render_cache.py)
            doc.sha256, page_index, box, self.render_options,
            lambda: self.renderer.render(path, page_index, box, self.render_options, **kw), **kw)

    async def viewports(self, turn: Turn, hits: Sequence[FoundBlock],
                        limit: int) -> tuple[list[ViewImage], dict[tuple[str, str], str]]:
        """Steps 9–11 for ``hits`` (of ``turn.hits``). Returns the images for the model and the
        viewport label of each hit."""
        s = self.settings
        usable = [f for f in hits if f.document.can_render and f.block.has_coords]
        boxes = [HitBox(f.document.id, f.block.page_index, f.block.id, tuple(f.block.coords_norm), f.score)  # type: ignore[arg-type]
                 for f in usable]
        if not boxes or limit <= 0:
            return [], {}
        t0 = time.perf_counter()
        sizes: dict[tuple[str, int], tuple[float, float]] = {}
        for b in boxes:
            if (b.document_id, b.page_index) not in sizes:
                sizes[(b.document_id, b.page_index)] = await self.page_size(turn.by_id[b.document_id], b.page_index)
        rows = {}
        for f, b in zip(usable, boxes, strict=True):
            extra = f.block.extra or {}
            if extra.get("row_of") and extra.get("cell"):
                rows[(b.document_id, b.block_id)] = RowHit(b, tuple(extra["cell"]), tuple(extra["header"])
                                                           if extra.get("header") else None,
                                                           list(extra.get("columns") or []), extra.get("text_pt"))
        text_sizes = await hit_text_sizes(usable, self.renderer, self.render_options)
        regions = layout_views(boxes, rows, sizes, text_sizes, self.layout_options, limit, id_prefix="v")
        sem = asyncio.Semaphore(max(1, min(4, os.cpu_count() or 1)))

        async def render(region: View) -> tuple[View, RenderedImage] | None:
            doc = turn.by_id[region.document_id]
            w, h = sizes[(region.document_id, region.page_index)]
            rw = (region.bbox_norm[2] - region.bbox_norm[0]) * w
            rh = (region.bbox_norm[3] - region.bbox_norm[1]) * h
            async with sem:
                try:
                    img = await self.render(
                        doc, region.page_index, region.bbox_norm,
                        outline=region.outline if s.viewport_outline_hits else [],
                        grid=grid_for(int(rw), int(rh)) if s.viewport_grid else None,
                        min_dpi=region.min_dpi, header=region.header_norm,
                    )
                except RenderLimitError as exc:  # this page stays text-only; the others still render
                    log.warning("viewport %s not rendered: %s", region.id, exc.key)
                    return None
            return region, img

        rendered = [r for r in await asyncio.gather(*(render(r) for r in regions)) if r is not None]
        turn.timings["render"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        items: list[UploadItem] = []
        infos: list[ImageInfo] = []
        labels: dict[tuple[str, str], str] = {}
        images: list[ViewImage] = []
        for region, img in rendered:
            caption = t_caption_viewport(region, img)
            key = self.files.generate_s3_path(turn.chat_id, "viewport",
                                              f"{region.id}_p{region.page_number}.{img.extension}")
            items.append(UploadItem(img.data, key, img.mime))
            infos.append(ImageInfo(id=str(uuid.uuid4()), image_type="viewport", s3_path=key, s3_url=None,
                                   width=img.width, height=img.height, page_number=region.page_number,
                                   message_id=turn.user_message_id, label=region.id,
                                   document_id=region.document_id, coords_norm=coords(img.bbox_norm),
                                   description=f"{region.id}: {caption}", dpi=round(img.dpi, 1)))
            turn.refs[region.id] = ImageRef(region.id, region.document_id, region.page_index, img.bbox_norm,
                                            img.grid, img.dpi, db_id=infos[-1].id, frame=img.frame)
            for block_id in region.block_ids:
                labels.setdefault((region.document_id, block_id), region.id)
            images.append(ViewImage(region.id, img.data, img.mime, caption))
        urls = await self.files.upload_many(items)
        turn.timings["upload"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows_out = []
        for info, url, item in zip(infos, urls, items, strict=True):
            info.s3_url = url
            rows_out.append(image_row(turn, info, turn.user_message_id, len(item.source)))  # type: ignore[arg-type]
        await self.store.add_images_bulk(rows_out)
        turn.timings["store_images"] = time.perf_counter() - t0
        turn.images.extend(infos)
        return images, labels

    async def model_image(self, turn: Turn, doc: Document, page_index: int, box: Any, *,
                          caption: str, min_dpi: float | None, outline: Sequence[Any] = (),
                          emit: Emit) -> ToolImage:
        """Render, upload and queue the record of an image the model asked for (a zoom crop)."""
        t0 = time.perf_counter()
        w, h = await self.page_size(doc, page_index)
        rw, rh = (box[2] - box[0]) * w, (box[3] - box[1]) * h
        img = await self.render(doc, page_index, box, min_dpi=min_dpi, outline=list(outline),
                                grid=grid_for(int(rw), int(rh)) if self.settings.viewport_grid else None)
        turn.zooms += 1
        label = f"z{turn.zooms}"
        key = self.files.generate_s3_path(turn.chat_id, "zoom_crop", f"{label}_p{page_index + 1}.{img.extension}")
        url = await self.files.upload_bytes(img.data, key, content_type=img.mime)
        info = ImageInfo(id=str(uuid.uuid4()), image_type="zoom_crop", s3_path=key, s3_url=url,
                         width=img.width, height=img.height, page_number=page_index + 1,
                         message_id=turn.assistant_message_id, label=label, document_id=doc.id,
                         coords_norm=coords(img.bbox_norm), description=f"{label}: {caption}",
                         dpi=round(img.dpi, 1))
        turn.pending.append(Pending(info, image_row(turn, info, turn.assistant_message_id, len(img.data))))
        turn.images.append(info)
        turn.refs[label] = ImageRef(label, doc.id, page_index, img.bbox_norm, img.grid, img.dpi, db_id=info.id,
                                    frame=img.frame)
        turn.timings["zoom"] = turn.timings.get("zoom", 0.0) + time.perf_counter() - t0
        await emit(ImageEvent(info))
        return ToolImage(label, img.data, img.mime, caption)

    def zoom_done_text(self, turn: Turn, label: str) -> str:
        """What the model is told about the image ``label`` it just got."""
        ref = turn.refs[label]
        info = next(i for i in reversed(turn.images) if i.label == label)
        return t("zoom.done", image_id=label, page=ref.page_index + 1,
                 box="[" + ", ".join(f"{v:.3f}" for v in ref.bbox_norm) + "]",
                 width=info.width, height=info.height, dpi=f"{ref.dpi:.0f}" if ref.dpi else "—",
                 last=ref.grid.last_cell if ref.grid else "—")
