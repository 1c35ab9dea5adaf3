"""A synthetic but realistic drawing set, drawn with PyMuPDF, and OCR bundles describing it.

:func:`build_drawing_set` draws a ventilation (ОВ) set: a GOST title block (штамп) with шифр,
sheet name and stage on every sheet; "Общие данные"; a ventilation plan with grid axes, rooms,
air ducts ("500х300") and equipment labels (П1, П1.1, П11, В2, В21, АОВ8); an equipment
specification; a section with elevations ("-7,650", "0.000", "+3.300"), scale "1:100", the roof
build-up ("Утеплитель кровли П-1 — минераловатные плиты 150 мм") and a lintel schedule (А3-13,
А3-13*). Text is a real Cyrillic text layer (MuPDF's built-in Nimbus Sans via ``Font("helv")``
carries Cyrillic glyphs when written with a TextWriter). Extra sheets (``sheet_count > 4``) repeat
plans of the upper floors, for benchmarks.

The result knows where everything is (:attr:`SyntheticSet.labels`, :attr:`SyntheticSet.regions`),
so tests and the zoom code can check coordinates. :func:`write_bundle_fixtures` writes the same
set as every OCR bundle format (annotation JSON, result JSON, OCR HTML C1/C2, Markdown D1/D2/D3 and
``<!-- BLOCK_ID -->`` markers) with shared block ids.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymupdf

MM = 72.0 / 25.4
A3_LANDSCAPE = (420 * MM, 297 * MM)
A2_LANDSCAPE = (594 * MM, 420 * MM)
PX_DPI = 300

DEFAULT_CODE = "133/23-ГК-ОВ1"
OBJECT_NAME = "Жилой комплекс по адресу: г. Москва, ул. Примерная, вл. 12"
SECTION_NAME = "Отопление, вентиляция и кондиционирование"
ORGANIZATION = "ООО «СинтезПроект»"
STAGE = "Р"

EQUIPMENT = [
    # (position, name, brand, count, note)
    ("П1", "Приточная установка L=3500 м³/ч, Р=450 Па", "КЦКП-3,15", "1", "Венткамера 001"),
    ("П1.1", "Приточная установка L=1200 м³/ч, Р=300 Па", "КЦКП-1,6", "1", "Венткамера 001"),
    ("П11", "Приточная установка L=800 м³/ч, Р=250 Па", "КЦКП-1", "1", "Кровля"),
    ("В2", "Вентилятор вытяжной канальный L=2000 м³/ч", "ВКРМ-4", "1", ""),
    ("В21", "Вентилятор вытяжной крышный L=300 м³/ч", "ВКР-2", "2", "Кровля"),
    ("АОВ8", "Агрегат отопительно-вентиляционный Q=8 кВт", "АО2-8", "2", "Вход"),
    ("1", "Воздуховод из оцинкованной стали 500х300", "δ=0,7 мм", "24 м", ""),
    ("2", "Воздуховод из оцинкованной стали 400х250", "δ=0,5 мм", "18 м", ""),
    ("3", "Камера шумоглушения 1000х2000х1000", "КШ-1", "1", ""),
]
ROOF_LAYERS = [
    "Кровля П-1:",
    "1. Наплавляемая гидроизоляция — 2 слоя",
    "2. Стяжка цементно-песчаная М150 — 50 мм",
    "3. Утеплитель кровли П-1 — минераловатные плиты 150 мм",
    "4. Пароизоляция — 1 слой",
    "5. Ж/б плита покрытия — 220 мм",
]
LINTELS = [
    ("А3-13", "2ПБ 13-1", "6", "над проёмами 1000 мм"),
    ("А3-13*", "2ПБ 13-1 с утеплителем", "2", "в наружных стенах"),
    ("А3-16", "2ПБ 16-2", "4", ""),
]
ELEVATIONS = ["+9.900", "+6.600", "+3.300", "0.000", "-3,300", "-7,650"]


@dataclass
class Label:
    """A piece of text drawn on a sheet and where (points, displayed page)."""

    text: str
    page_index: int
    rect: tuple[float, float, float, float]
    page_size: tuple[float, float]

    @property
    def coords_norm(self) -> tuple[float, float, float, float]:
        w, h = self.page_size
        x0, y0, x1, y1 = self.rect
        return (x0 / w, y0 / h, x1 / w, y1 / h)


@dataclass
class Region:
    """A part of a sheet an OCR pipeline would cut out as one block."""

    key: str
    page_index: int
    block_type: str  # text | table | image
    rect: tuple[float, float, float, float]
    page_size: tuple[float, float]
    text: str = ""
    html: str = ""
    analysis: dict[str, Any] | None = None
    stamp: dict[str, Any] | None = None
    links: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return block_id_for(f"{self.page_index}:{self.key}")

    @property
    def coords_norm(self) -> tuple[float, float, float, float]:
        w, h = self.page_size
        x0, y0, x1, y1 = self.rect
        return (round(x0 / w, 6), round(y0 / h, 6), round(x1 / w, 6), round(y1 / h, 6))

    @property
    def page_px(self) -> tuple[int, int]:
        w, h = self.page_size
        return (round(w * PX_DPI / 72), round(h * PX_DPI / 72))

    @property
    def coords_px(self) -> list[int]:
        pw, ph = self.page_px
        x0, y0, x1, y1 = self.coords_norm
        return [round(x0 * pw), round(y0 * ph), round(x1 * pw), round(y1 * ph)]


@dataclass
class SheetSpec:
    page_index: int
    kind: str
    name: str
    size: tuple[float, float]


@dataclass
class SyntheticSet:
    pdf_bytes: bytes
    document_code: str
    sheets: list[SheetSpec]
    labels: list[Label]
    regions: list[Region]

    def find(self, text: str) -> list[Label]:
        return [lb for lb in self.labels if lb.text == text]

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.pdf_bytes)
        return path


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def block_id_for(key: str) -> str:
    """A stable block id in the bundles' 4-4-3 style (``7LPV-EU9J-WJQ``)."""
    digest = hashlib.sha256(key.encode()).digest()
    chars = [_ALPHABET[b % 36] for b in digest[:11]]
    return "".join(chars[:4]) + "-" + "".join(chars[4:8]) + "-" + "".join(chars[8:11])


class _Sheet:
    """Drawing helpers for one page: lines via a Shape, text via a TextWriter."""

    def __init__(self, pdf: pymupdf.Document, font: pymupdf.Font, index: int, size: tuple[float, float],
                 labels: list[Label]) -> None:
        self.page = pdf.new_page(width=size[0], height=size[1])
        self.font = font
        self.index = index
        self.size = size
        self.shape = self.page.new_shape()
        self.writer = pymupdf.TextWriter(self.page.rect)
        self.labels = labels

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.5, dashes: str | None = None) -> None:
        self.shape.draw_line((x0, y0), (x1, y1))
        self.shape.finish(width=width, color=(0, 0, 0), dashes=dashes)

    def rect(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.5, fill: Any = None) -> None:
        self.shape.draw_rect(pymupdf.Rect(x0, y0, x1, y1))
        self.shape.finish(width=width, color=(0, 0, 0), fill=fill)

    def circle(self, cx: float, cy: float, r: float, width: float = 0.5) -> None:
        self.shape.draw_circle((cx, cy), r)
        self.shape.finish(width=width, color=(0, 0, 0))

    def text(self, x: float, y: float, s: str, size: float = 7.0, record: bool = True) -> tuple[float, float, float, float]:
        """Text with its baseline-left at (x, y); returns and records its box."""
        self.writer.append((x, y), s, font=self.font, fontsize=size)
        w = self.font.text_length(s, fontsize=size)
        box = (x, y - size * 0.95, x + w, y + size * 0.25)
        if record:
            self.labels.append(Label(s, self.index, box, self.size))
        return box

    def ctext(self, cx: float, cy: float, s: str, size: float = 7.0) -> tuple[float, float, float, float]:
        w = self.font.text_length(s, fontsize=size)
        return self.text(cx - w / 2, cy + size * 0.35, s, size)

    def finish(self) -> None:
        self.shape.commit()
        self.writer.write_text(self.page)


def _frame(sh: _Sheet) -> tuple[float, float, float, float]:
    w, h = sh.size
    x0, y0, x1, y1 = 20 * MM, 5 * MM, w - 5 * MM, h - 5 * MM
    sh.rect(x0, y0, x1, y1, width=1.2)
    return x0, y0, x1, y1


def _stamp(sh: _Sheet, code: str, sheet_name: str, number: int, total: int) -> Region:
    """A GOST 21.101 form 3 title block (185 × 55 mm) in the bottom-right corner."""
    w, h = sh.size
    X, Y = w - 5 * MM - 185 * MM, h - 5 * MM - 55 * MM

    def mm(x: float, y: float) -> tuple[float, float]:
        return X + x * MM, Y + y * MM

    sh.rect(*mm(0, 0), *mm(185, 55), width=1.0)
    for y in (10, 25, 40):
        sh.line(*mm(65, y), *mm(185, y), width=0.8)
    sh.line(*mm(65, 0), *mm(65, 55), width=0.8)
    sh.line(*mm(135, 25), *mm(135, 55), width=0.8)
    sh.line(*mm(135, 30), *mm(185, 30), width=0.5)
    for x in (150, 165):
        sh.line(*mm(x, 25), *mm(x, 40), width=0.5)
    for y in range(5, 55, 5):
        sh.line(*mm(0, y), *mm(65, y), width=0.3)
    for x in (7, 17, 27, 37, 52):
        sh.line(*mm(x, 0), *mm(x, 30), width=0.3)
    sh.ctext(*mm(125, 5), code, 12)
    sh.ctext(*mm(125, 15), OBJECT_NAME, 7)
    sh.ctext(*mm(100, 32.5), SECTION_NAME, 6.5)
    for cx, label in ((142.5, "Стадия"), (157.5, "Лист"), (175, "Листов")):
        sh.ctext(*mm(cx, 27.5), label, 6)
    for cx, value in ((142.5, STAGE), (157.5, str(number)), (175, str(total))):
        sh.ctext(*mm(cx, 35), value, 8)
    sh.ctext(*mm(100, 47.5), sheet_name, 8)
    sh.ctext(*mm(160, 47.5), ORGANIZATION, 8)
    for cx, label in ((3.5, "Изм."), (12, "Кол.уч"), (22, "Лист"), (32, "№док"), (44.5, "Подп."), (58.5, "Дата")):
        sh.ctext(*mm(cx, 27.5), label, 4.5)
    for row, (role, person) in enumerate((("Разраб.", "Иванов"), ("Пров.", "Петров"), ("ГИП", "Сидоров"),
                                          ("Н.контр.", "Козлов"))):
        y = 32.5 + row * 5
        sh.text(*mm(1, y + 1.5), role, 4.5)
        sh.text(*mm(18, y + 1.5), person, 4.5)
        sh.ctext(*mm(58.5, y), "05.24", 4.5)
    stamp = {
        "document_code": code, "project_name": OBJECT_NAME, "sheet_name": sheet_name, "stage": STAGE,
        "sheet_number": str(number), "total_sheets": str(total), "organization": ORGANIZATION,
    }
    return Region(
        "stamp", sh.index, "image", (*mm(65, 0), *mm(185, 55)), sh.size,
        text=f"{code} {sheet_name} Стадия {STAGE} Лист {number} Листов {total}", stamp=stamp,
    )


def _table(sh: _Sheet, x: float, y: float, widths: list[float], rows: list[list[str]], row_h: float = 8 * MM,
           size: float = 7.0) -> tuple[float, float, float, float]:
    total_w = sum(widths)
    for r, row in enumerate(rows):
        ry = y + r * row_h
        sh.line(x, ry, x + total_w, ry, width=0.8 if r <= 1 else 0.4)
        cx = x
        for wd, cell in zip(widths, row):
            if cell:
                sh.text(cx + 2 * MM, ry + row_h / 2 + size * 0.35, cell, size)
            cx += wd
    bottom = y + len(rows) * row_h
    sh.line(x, bottom, x + total_w, bottom, width=0.8)
    cx = x
    for wd in [0.0, *widths]:
        cx += wd
        sh.line(cx, y, cx, bottom, width=0.6)
    return (x, y, x + total_w, bottom)


def _html_table(rows: list[list[str]]) -> str:
    head, *body = rows
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body]
    out.append("</tbody></table>")
    return "\n".join(out)


def _general(sh: _Sheet, code: str, sheets: list[SheetSpec]) -> list[Region]:
    x0, y0, _, _ = _frame(sh)
    regions = []
    sh.text(x0 + 10 * MM, y0 + 15 * MM, "Ведомость листов основного комплекта", 10)
    rows = [["Лист", "Наименование", "Примечание"]] + [[str(s.page_index + 1), s.name, ""] for s in sheets[:12]]
    box = _table(sh, x0 + 10 * MM, y0 + 20 * MM, [15 * MM, 120 * MM, 30 * MM], rows)
    regions.append(Region("sheets", sh.index, "table", box, sh.size, text="\n".join(" | ".join(r) for r in rows),
                          html=_html_table(rows)))
    notes = [
        "Общие указания",
        f"1. Проект разработан на основании задания на проектирование и чертежей {code.replace('ОВ1', 'АР1')}.",
        "2. Воздуховоды систем П1, В2 выполнить из оцинкованной стали по ГОСТ 14918-2020.",
        "3. Отметка 0.000 соответствует абсолютной отметке 145.300.",
        "4. Изоляция воздуховодов — минераловатные маты толщиной 50 мм.",
        "5. Монтаж вести по СП 73.13330.2016.",
    ]
    nx, ny = x0 + 200 * MM, y0 + 15 * MM
    for i, note in enumerate(notes):
        sh.text(nx, ny + i * 6 * MM, note, 10 if i == 0 else 7.5)
    width = max(sh.font.text_length(n, fontsize=7.5) for n in notes)
    regions.append(Region("notes", sh.index, "text", (nx, ny - 10, nx + width, ny + len(notes) * 6 * MM), sh.size,
                          text="\n".join(notes), html="".join(f"<p>{html.escape(n)}</p>" for n in notes)))
    return regions


def _plan(sh: _Sheet, elevation: str, floor: int) -> list[Region]:
    x0, y0, x1, y1 = _frame(sh)
    axes_x = [x0 + (40 + i * 80) * MM for i in range(6)]
    axes_y = [y0 + (30 + j * 70) * MM for j in range(5)]
    letters = ["А", "Б", "В", "Г", "Д"]
    for i, ax in enumerate(axes_x):
        sh.line(ax, axes_y[0] - 10 * MM, ax, axes_y[-1] + 5 * MM, width=0.3, dashes="[8 3 2 3] 0")
        sh.circle(ax, axes_y[0] - 15 * MM, 5 * MM)
        sh.ctext(ax, axes_y[0] - 15 * MM, str(i + 1), 10)
    for j, ay in enumerate(axes_y):
        sh.line(axes_x[0] - 10 * MM, ay, axes_x[-1] + 5 * MM, ay, width=0.3, dashes="[8 3 2 3] 0")
        sh.circle(axes_x[0] - 15 * MM, ay, 5 * MM)
        sh.ctext(axes_x[0] - 15 * MM, ay, letters[j], 10)
    sh.rect(axes_x[0], axes_y[0], axes_x[-1], axes_y[-1], width=1.5)
    rooms = [("Венткамера", "001" if floor == 0 else f"{floor}01"), ("Офис", f"{floor}02"), ("Коридор", f"{floor}03"),
             ("Холл", f"{floor}04"), ("Санузел", f"{floor}05")]
    for i, (name, num) in enumerate(rooms):
        rx, ry = axes_x[i], axes_y[1]
        sh.rect(rx, axes_y[0], axes_x[i + 1], ry, width=1.0)
        sh.ctext((rx + axes_x[i + 1]) / 2, ry - 12 * MM, f"{num} {name}", 8)
        sh.ctext((rx + axes_x[i + 1]) / 2, ry - 7 * MM, f"{18.5 + 4 * i:.1f} м²".replace(".", ","), 7)
    # Air ducts: double lines with size labels.
    duct_y = axes_y[2] + 10 * MM
    sizes = ["500х300", "400х250", "250х200", "Ø200"]
    for i, size in enumerate(sizes):
        a, b = axes_x[i] + 10 * MM, axes_x[i + 1] - 10 * MM
        half = (4 - i) * 1.2 * MM
        sh.line(a, duct_y - half, b, duct_y - half, width=0.7)
        sh.line(a, duct_y + half, b, duct_y + half, width=0.7)
        sh.ctext((a + b) / 2, duct_y - half - 5 * MM, size, 8)
    sh.ctext(axes_x[1], duct_y + 12 * MM, f"низ воздуховода {'+2.700' if floor == 0 else f'+{3.3 * floor + 2.7:.3f}'}", 7)
    # Equipment with leaders.
    equipment = ["П1", "П1.1", "В2", "В21", "АОВ8"] if floor == 0 else ["П11", "В2", "В21"]
    for i, code in enumerate(equipment):
        ex, ey = axes_x[0] + (15 + i * 55) * MM, axes_y[3] + 15 * MM
        sh.rect(ex, ey, ex + 20 * MM, ey + 12 * MM, width=0.8)
        sh.line(ex + 20 * MM, ey, ex + 28 * MM, ey - 8 * MM, width=0.4)
        sh.text(ex + 29 * MM, ey - 9 * MM, code, 10)
    title = f"План вентиляции на отм. {elevation}. М 1:100"
    sh.text(x0 + 20 * MM, y1 - 70 * MM, title, 12)
    plan_box = (axes_x[0] - 20 * MM, axes_y[0] - 20 * MM, axes_x[-1] + 5 * MM, axes_y[-1] + 5 * MM)
    entities = [*equipment, *sizes, "1:100", elevation]
    analysis = {
        "location": {"grid_lines": "1-6/А-Д", "zone_name": "План"},
        "content_summary": f"План вентиляции на отм. {elevation} с приточными и вытяжными системами.",
        "detailed_description": "На плане показаны оси 1-6 и А-Д, помещения, воздуховоды с размерами сечений "
                                "и оборудование систем вентиляции с выносками.",
        "clean_ocr_text": " ".join([*equipment, *sizes, *[r[0] for r in rooms]]),
        "key_entities": entities,
    }
    return [
        Region("plan", sh.index, "image", plan_box, sh.size, text=" ".join(entities), analysis=analysis),
        Region("plan-title", sh.index, "text", (x0 + 20 * MM, y1 - 75 * MM, x0 + 160 * MM, y1 - 68 * MM), sh.size,
               text=title, html=f"<h2>{html.escape(title)}</h2>"),
    ]


def _specification(sh: _Sheet) -> list[Region]:
    x0, y0, _, _ = _frame(sh)
    sh.text(x0 + 10 * MM, y0 + 15 * MM, "Спецификация оборудования, изделий и материалов", 10)
    rows = [["Поз.", "Наименование и техническая характеристика", "Тип, марка", "Кол.", "Примечание"]]
    rows += [list(e) for e in EQUIPMENT]
    box = _table(sh, x0 + 10 * MM, y0 + 20 * MM, [15 * MM, 120 * MM, 40 * MM, 20 * MM, 40 * MM], rows)
    return [Region("spec", sh.index, "table", box, sh.size, text="\n".join(" | ".join(r) for r in rows),
                   html=_html_table(rows))]


def _section(sh: _Sheet) -> list[Region]:
    x0, y0, x1, y1 = _frame(sh)
    bx0, bx1 = x0 + 30 * MM, x0 + 200 * MM
    levels = {"+9.900": 40, "+6.600": 73, "+3.300": 106, "0.000": 139, "-3,300": 172, "-7,650": 215}
    for mark, ymm in levels.items():
        y = y0 + ymm * MM
        sh.line(bx0, y, bx1, y, width=1.2)
        sh.line(bx1 + 2 * MM, y, bx1 + 8 * MM, y, width=0.4)
        sh.line(bx1 + 5 * MM, y, bx1 + 8 * MM, y - 3 * MM, width=0.4)
        sh.text(bx1 + 10 * MM, y - 1.5 * MM, mark, 8)
    sh.line(bx0, y0 + 40 * MM, bx0, y0 + 215 * MM, width=1.5)
    sh.line(bx1, y0 + 40 * MM, bx1, y0 + 215 * MM, width=1.5)
    title = "Разрез 1-1. М 1:100"
    sh.text(x0 + 60 * MM, y0 + 25 * MM, title, 12)
    rx, ry = x0 + 250 * MM, y0 + 30 * MM
    for i, layer in enumerate(ROOF_LAYERS):
        sh.text(rx, ry + i * 6 * MM, layer, 7.5)
    roof_w = max(sh.font.text_length(s, fontsize=7.5) for s in ROOF_LAYERS)
    sh.text(rx, y0 + 100 * MM, "Ведомость перемычек", 10)
    rows = [["Марка", "Схема сечения", "Кол.", "Примечание"]] + [list(r) for r in LINTELS]
    lbox = _table(sh, rx, y0 + 105 * MM, [20 * MM, 50 * MM, 15 * MM, 50 * MM], rows)
    analysis = {
        "location": {"grid_lines": "1-6", "zone_name": "Разрез"},
        "content_summary": "Разрез 1-1 здания с отметками уровней этажей.",
        "detailed_description": "Разрез показывает перекрытия на отметках от -7,650 до +9.900 и кровлю П-1.",
        "clean_ocr_text": " ".join(levels),
        "key_entities": [*levels, "1:100", "П-1"],
    }
    return [
        Region("section", sh.index, "image", (bx0 - 5 * MM, y0 + 20 * MM, bx1 + 30 * MM, y0 + 220 * MM), sh.size,
               text=title + " " + " ".join(levels), analysis=analysis),
        Region("roof", sh.index, "text", (rx, ry - 8, rx + roof_w, ry + len(ROOF_LAYERS) * 6 * MM), sh.size,
               text="\n".join(ROOF_LAYERS), html="".join(f"<p>{html.escape(s)}</p>" for s in ROOF_LAYERS)),
        Region("lintels", sh.index, "table", lbox, sh.size, text="\n".join(" | ".join(r) for r in rows),
               html=_html_table(rows)),
    ]


def _sheet_plan(count: int) -> list[tuple[str, str, tuple[float, float]]]:
    base = [
        ("general", "Общие данные", A3_LANDSCAPE),
        ("plan", "План вентиляции на отм. 0.000", A2_LANDSCAPE),
        ("spec", "Спецификация оборудования", A3_LANDSCAPE),
        ("section", "Разрез 1-1", A3_LANDSCAPE),
    ]
    out = base[: max(1, count)]
    floor = 1
    while len(out) < count:
        elev = f"+{3.3 * floor:.3f}"
        out.append(("plan", f"План вентиляции на отм. {elev}", A2_LANDSCAPE))
        floor += 1
    return out


def build_drawing_set(sheet_count: int = 4, *, document_code: str = DEFAULT_CODE) -> SyntheticSet:
    """Draw the set; ``sheet_count`` ≥ 4 gives the four base sheets plus upper-floor plans."""
    plan = _sheet_plan(sheet_count)
    pdf = pymupdf.open()
    font = pymupdf.Font("helv")
    labels: list[Label] = []
    regions: list[Region] = []
    specs = [SheetSpec(i, kind, name, size) for i, (kind, name, size) in enumerate(plan)]
    floor = 0
    for spec in specs:
        sh = _Sheet(pdf, font, spec.page_index, spec.size, labels)
        if spec.kind == "general":
            regions += _general(sh, document_code, specs)
        elif spec.kind == "plan":
            elevation = spec.name.rsplit(" ", 1)[-1]
            regions += _plan(sh, elevation, floor)
            floor += 1
        elif spec.kind == "spec":
            regions += _specification(sh)
        else:
            regions += _section(sh)
        regions.append(_stamp(sh, document_code, spec.name, spec.page_index + 1, len(specs)))
        sh.finish()
    pdf.set_metadata({"title": f"{document_code} {SECTION_NAME}", "creator": "aizoomdoc synthetic"})
    data = pdf.tobytes(garbage=3, deflate=True)
    pdf.close()
    _link(regions)
    return SyntheticSet(data, document_code, specs, labels, regions)


def _link(regions: list[Region]) -> None:
    """The specification table and the plan reference each other (like linked OCR blocks)."""
    plan = next((r for r in regions if r.key == "plan"), None)
    spec = next((r for r in regions if r.key == "spec"), None)
    if plan and spec:
        plan.links.append(spec.id)
        spec.links.append(plan.id)


def write_drawing_set(path: Path, sheet_count: int = 4, *, document_code: str = DEFAULT_CODE) -> SyntheticSet:
    s = build_drawing_set(sheet_count, document_code=document_code)
    s.write(path)
    return s


def scanned_pdf_bytes(text: str = "") -> bytes:
    """One A3 page that is only a picture (a scan), optionally with a few characters of text."""
    w, h = A3_LANDSCAPE
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 420, 297), False)
    pix.set_rect(pix.irect, (235, 235, 235))
    pix.set_rect(pymupdf.IRect(50, 50, 300, 60), (20, 20, 20))
    pdf = pymupdf.open()
    page = pdf.new_page(width=w, height=h)
    page.insert_image(page.rect, pixmap=pix)
    if text:
        page.insert_text((20, 20), text, fontsize=6)
    data = pdf.tobytes()
    pdf.close()
    return data


def rasterised_pdf(data: bytes, dpi: float = 200.0, pages: list[int] | None = None) -> bytes:
    """An image-only copy of a PDF (what a scanner makes of a printed set): each page (all, or
    the 0-based ``pages``) rendered in grayscale at ``dpi`` and placed as a picture on a page of the
    same size, with no text layer at all."""
    src = pymupdf.open(stream=data, filetype="pdf")
    out = pymupdf.open()
    try:
        for index in pages if pages is not None else range(src.page_count):
            page = src[index]
            pix = page.get_pixmap(dpi=int(dpi), colorspace=pymupdf.csGRAY, alpha=False)
            target = out.new_page(width=page.rect.width, height=page.rect.height)
            target.insert_image(target.rect, stream=pix.tobytes("png"))
        return out.tobytes(garbage=3, deflate=True)
    finally:
        src.close()
        out.close()


# ---------------------------------------------------------------------------------------------
# OCR bundle fixtures (formats A–D) describing a synthetic set
# ---------------------------------------------------------------------------------------------

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
    import uuid

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
