"""Drawing the synthetic ventilation (ОВ) set with PyMuPDF.

:func:`build_drawing_set` draws a GOST title block (штамп) with шифр, sheet name and stage on every
sheet; "Общие данные"; a ventilation plan with grid axes, rooms, air ducts ("500х300") and
equipment labels (П1, П1.1, П11, В2, В21, АОВ8); an equipment specification; a section with
elevations ("-7,650", "0.000", "+3.300"), scale "1:100", the roof build-up ("Утеплитель кровли П-1
— минераловатные плиты 150 мм") and a lintel schedule (А3-13, А3-13*). Text is a real Cyrillic text
layer (MuPDF's built-in Nimbus Sans via ``Font("helv")`` carries Cyrillic glyphs when written with a
TextWriter). Extra sheets (``sheet_count > 4``) repeat plans of the upper floors, for benchmarks.
Everything drawn is recorded (:class:`~aizoomdoc.sample.model.Label`,
:class:`~aizoomdoc.sample.model.Region`).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pymupdf

from aizoomdoc.sample.model import (
    A2_LANDSCAPE,
    A3_LANDSCAPE,
    DEFAULT_CODE,
    EQUIPMENT,
    LINTELS,
    MM,
    OBJECT_NAME,
    ORGANIZATION,
    ROOF_LAYERS,
    SECTION_NAME,
    STAGE,
    Label,
    Region,
    SheetSpec,
    SyntheticSet,
)


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
    for ry in range(5, 55, 5):
        sh.line(*mm(0, ry), *mm(65, ry), width=0.3)
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
        top = 32.5 + row * 5
        sh.text(*mm(1, top + 1.5), role, 4.5)
        sh.text(*mm(18, top + 1.5), person, 4.5)
        sh.ctext(*mm(58.5, top), "05.24", 4.5)
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
        for wd, cell in zip(widths, row, strict=True):
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
