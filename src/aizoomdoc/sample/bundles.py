"""The synthetic set written as every OCR bundle format (A–D), sharing the block ids of the PDF.

Annotation JSON, result JSON, OCR HTML C1/C2, Markdown D1/D2/D3 and ``<!-- BLOCK_ID -->`` markers:
the formats :mod:`aizoomdoc.documents` reads (see docs/FORMATS.md), made from the regions recorded
while drawing.
"""

from __future__ import annotations

import html
import json
import uuid
from pathlib import Path
from typing import Any

import pymupdf

from aizoomdoc.sample.drawing import build_drawing_set
from aizoomdoc.sample.model import OBJECT_NAME, ORGANIZATION, PX_DPI, STAGE, Region, SyntheticSet

BUNDLE_FORMATS = ("annotation", "result", "html_c1", "html_c2", "md_d1", "md_d2", "md_d3", "md_markers")


def _pages(regions: list[Region]) -> dict[int, list[Region]]:
    out: dict[int, list[Region]] = {}
    for r in regions:
        out.setdefault(r.page_index, []).append(r)
    return dict(sorted(out.items()))


def _json_block(r: Region, with_ocr: bool) -> dict[str, Any]:
    b: dict[str, Any] = {
        "id": r.id, "page_index": r.page_index, "coords_px": r.coords_px, "coords_norm": list(r.coords_norm),
        "block_type": r.block_type, "source": "user", "shape_type": "rectangle",
        "image_file": f"/tmp/ocr_job/crops_final/{r.id}.pdf" if r.block_type == "image" else None,
        "ocr_text": None,
    }
    if r.links:
        b["linked_block_id"] = r.links[0]
    if not with_ocr:
        return b
    if r.block_type == "image":
        payload = r.stamp if r.stamp is not None else r.analysis or {}
        b["ocr_text"] = json.dumps(payload, ensure_ascii=False, indent=2)
        b["ocr_html"] = "<pre>" + html.escape(b["ocr_text"]) + "</pre>"
        b["ocr_json"] = payload
        b["pdfplumber_text"] = r.text
        b["crop_url"] = f"https://example.invalid/crops/{r.id}.pdf"
        if r.stamp is not None:
            b["stamp_data"] = r.stamp
    else:
        b["ocr_text"] = r.html
        b["ocr_html"] = r.html
    b["ocr_meta"] = {"method": ["marker"], "match_score": 100.0}
    return b


def annotation_json(s: SyntheticSet, pdf_name: str, with_ocr: bool = False) -> dict[str, Any]:
    by_page = _pages(s.regions)
    pages = []
    for spec in s.sheets:
        regs = by_page.get(spec.page_index, [])
        if with_ocr and not regs:
            continue
        pw, ph = round(spec.size[0] * PX_DPI / 72), round(spec.size[1] * PX_DPI / 72)
        pages.append({"page_number": spec.page_index, "width": pw, "height": ph,
                      "blocks": [_json_block(r, with_ocr) for r in regs]})
    return {"pdf_path": f"C:/Users/engineer/Downloads/{pdf_name}", "pages": pages}


def _stamp_info_html(r: Region, s: SyntheticSet) -> str:
    spec = s.sheets[r.page_index]
    return (f'<div class="stamp-info"><b>Шифр:</b> {html.escape(s.document_code)} | <b>Стадия:</b> {STAGE} | '
            f"<b>Лист:</b> {spec.page_index + 1} | <b>Объект:</b> {html.escape(OBJECT_NAME)} | "
            f"<b>Наименование:</b> {html.escape(spec.name)} | <b>Организация:</b> {html.escape(ORGANIZATION)}</div>")


def _image_fields(r: Region) -> dict[str, str]:
    payload = r.analysis or {}
    kind = {"plan": "План этажа", "section": "Разрез", "stamp": "Штамп"}.get(r.key, "Схема")
    if r.stamp is not None:
        return {"kind": kind, "summary": "Основная надпись (штамп) листа.", "description": "",
                "drawing_text": r.text, "entities": f"{r.stamp['document_code']}, Лист {r.stamp['sheet_number']}"}
    return {
        "kind": kind,
        "axes": payload.get("location", {}).get("grid_lines", ""),
        "summary": payload.get("content_summary", ""),
        "description": payload.get("detailed_description", ""),
        "drawing_text": payload.get("clean_ocr_text", ""),
        "entities": ", ".join(payload.get("key_entities", [])),
    }


def ocr_html(s: SyntheticSet, generation: str, title: str) -> str:
    out = ["<!DOCTYPE html>", '<html lang="ru">', "<head>", '<meta charset="UTF-8">',
           f"<title>{html.escape(title)} - OCR</title>", "<style>.block { margin: 1rem; }</style>", "</head>", "<body>",
           f"<h1>{html.escape(title)}</h1>", "<p>Сгенерировано: 2025-01-01 00:00:00 UTC</p>", ""]
    for page_index, regs in _pages(s.regions).items():
        for k, r in enumerate(regs, 1):
            header = f"Блок #{k} (стр. {page_index + 1}) | Тип: {r.block_type}"
            if generation == "C1":
                header += f" | ID: {r.id[:8]}..."
            out.append(f'<div class="block block-type-{r.block_type}">')
            out.append(f'<div class="block-header">{html.escape(header)}</div>')
            out.append('<div class="block-content">')
            out.append(f"<p>BLOCK: {r.id}</p>")
            if generation == "C2":
                if r.links:
                    out.append(f"<p><b>Linked block:</b> {r.links[0]}</p>")
                out.append("<p><b>Created:</b> 2025-01-01 10:00:00</p>")
                out.append(_stamp_info_html(r, s))
            if r.block_type == "image":
                crop = f"https://example.invalid/crops/{r.id}.pdf"
                if generation == "C1":
                    payload = r.stamp if r.stamp is not None else r.analysis or {}
                    body = json.dumps(payload, ensure_ascii=False, indent=2)
                    if r.stamp is not None:
                        body = f"```json\n{body}\n```"
                    out.append(f"<pre>{html.escape(body)}</pre>")
                    out.append(f'<p><a href="{crop}" target="_blank">Открыть изображение</a></p>')
                else:
                    f = _image_fields(r)
                    out.append(f'<p><a href="{crop}" target="_blank"><b>🖼️ Открыть кроп изображения</b></a></p>')
                    kind = f"<p><b>[ИЗОБРАЖЕНИЕ]</b> | Тип: {html.escape(f['kind'])}"
                    out.append(kind + (f" | Оси: {html.escape(f['axes'])}" if f.get("axes") else "") + "</p>")
                    for label, key in (("Краткое описание", "summary"), ("Описание", "description"),
                                       ("Текст на чертеже", "drawing_text"), ("Сущности", "entities")):
                        if f.get(key):
                            out.append(f"<p><b>{label}:</b> {html.escape(f[key])}</p>")
            else:
                out.append("</p>\n   " + r.html + "\n   <p>")
            out.append("</div></div>")
    out.append("</body></html>")
    return "\n".join(out)


def markdown_d1(s: SyntheticSet, crops_dir: Path | None = None) -> str:
    out = [f"# {s.document_code}", "",
           f"**Штамп:** Шифр: {s.document_code} | Стадия: {STAGE} | Объект: {OBJECT_NAME}", ""]
    for page_index, regs in _pages(s.regions).items():
        spec = s.sheets[page_index]
        out += [f"## СТРАНИЦА {page_index + 1}", f"**Лист:** {page_index + 1} (из {len(s.sheets)})",
                f"**Наименование листа:** {spec.name}", ""]
        for r in regs:
            out.append(f"### BLOCK [{r.block_type.upper()}]: {r.id}")
            for link in r.links:
                out.append(f"→{link}")
            if r.block_type == "image":
                f = _image_fields(r)
                out.append(f"**[ИЗОБРАЖЕНИЕ]** | Тип: {f['kind']}" + (f" | Оси: {f['axes']}" if f.get("axes") else ""))
                for label, key in (("Краткое описание", "summary"), ("Описание", "description"),
                                   ("Текст на чертеже", "drawing_text"), ("Сущности", "entities")):
                    if f.get(key):
                        out.append(f"**{label}:** {f[key]}")
                if crops_dir is not None:
                    crops_dir.mkdir(parents=True, exist_ok=True)
                    (crops_dir / f"{r.id}.png").write_bytes(_tiny_png())
            elif r.block_type == "table":
                rows = [ln.split(" | ") for ln in r.text.splitlines()]
                out.append("| " + " | ".join(rows[0]) + " |")
                out.append("|" + "---|" * len(rows[0]))
                out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
            else:
                out.append(r.text)
            out.append("")
    return "\n".join(out)


def markdown_d2(s: SyntheticSet, pdf_name: str) -> str:
    out: list[str] = [f"# {s.document_code}", ""]
    for page_index, regs in _pages(s.regions).items():
        for r in regs:
            if r.block_type == "image":
                payload = {
                    "doc_metadata": {"doc_name": pdf_name, "page": page_index + 1},
                    "image": {"uri": f"images/{r.id}.png", "mime_type": "image/png"},
                    "raw_pdfplumber_text": r.text,
                    "analysis": r.analysis if r.analysis is not None else r.stamp,
                }
                out += ["```json", json.dumps(payload, ensure_ascii=False, indent=2), "```", ""]
            elif r.block_type == "table":
                rows = [ln.split(" | ") for ln in r.text.splitlines()]
                out += ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
                out += ["| " + " | ".join(row) + " |" for row in rows[1:]] + [""]
            else:
                out += [r.text, ""]
    return "\n".join(out)


def markdown_d3(s: SyntheticSet) -> str:
    out: list[str] = []
    for regs in _pages(s.regions).values():
        for r in regs:
            if r.block_type == "image" and r.analysis is not None:
                uid = _uuid_for(r.id)
                out += ["*Изображение:*", json.dumps(r.analysis, ensure_ascii=False, indent=2),
                        f"![Изображение](result/crops/image_{uid}.pdf)", ""]
            elif r.block_type != "image":
                out += [r.text, ""]
    return "\n".join(out)


def markdown_markers(s: SyntheticSet) -> str:
    out: list[str] = []
    for page_index, regs in _pages(s.regions).items():
        out += [f"## СТРАНИЦА {page_index + 1}", ""]
        for r in regs:
            out.append(f"<!-- BLOCK_ID: {r.id} -->")
            out.append(r.text)
            out.append("<!-- END_BLOCK -->")
            out.append("")
    return "\n".join(out)


def _uuid_for(block_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, block_id))


def _tiny_png() -> bytes:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 4, 4), False)
    pix.set_rect(pix.irect, (255, 255, 255))
    return pix.tobytes("png")


def write_bundle_fixtures(directory: Path, s: SyntheticSet | None = None, *, stem: str = "133_23-GK-OV1",
                          with_pdf: bool = True, formats: tuple[str, ...] = BUNDLE_FORMATS) -> dict[str, Path]:
    """Write the set as every bundle format into ``directory``; returns {format: path}.

    Files share ``stem`` (``{stem}.pdf``, ``{stem}_annotation.json``, ``{stem}_result.json``,
    ``{stem}_ocr.html`` (C1), ``{stem}_v2_ocr.html`` (C2), ``{stem}_document.md`` (D1),
    ``{stem}_prepared.md`` (D2), ``{stem}_result.md`` (D3), ``{stem}_blocks.md`` (markers)).
    """
    s = s or build_drawing_set()
    directory.mkdir(parents=True, exist_ok=True)
    pdf_name = f"{stem}.pdf"
    out: dict[str, Path] = {}
    if with_pdf:
        out["pdf"] = s.write(directory / pdf_name)
    writers = {
        "annotation": (f"{stem}_annotation.json",
                       lambda: json.dumps(annotation_json(s, pdf_name), ensure_ascii=False, indent=1)),
        "result": (f"{stem}_result.json",
                   lambda: json.dumps(annotation_json(s, pdf_name, with_ocr=True), ensure_ascii=False, indent=1)),
        "html_c1": (f"{stem}_ocr.html", lambda: ocr_html(s, "C1", "document.pdf")),
        "html_c2": (f"{stem}_v2_ocr.html", lambda: ocr_html(s, "C2", f"Проект / ОВ / {s.document_code} / {pdf_name}")),
        "md_d1": (f"{stem}_document.md", lambda: markdown_d1(s, directory / "crops")),
        "md_d2": (f"{stem}_prepared.md", lambda: markdown_d2(s, pdf_name)),
        "md_d3": (f"{stem}_result.md", lambda: markdown_d3(s)),
        "md_markers": (f"{stem}_blocks.md", lambda: markdown_markers(s)),
    }
    for fmt in formats:
        name, make = writers[fmt]
        path = directory / name
        path.write_text(make(), encoding="utf-8")
        out[fmt] = path
    return out
