"""A second, independent ventilation set for viewport tests and the viewport benchmark.

Drawn here (not by :mod:`aizoomdoc.sample`) so that the viewport code is judged on a
layout it was not written against, like the held-out sets of issue 12: three sheets —
"Общие данные", a plan with equipment tags (П1, П1.1, В2, В21) whose tags sit on axis and grid
lines, and a wide ruled specification (nine columns, a two-line header, 2.5 mm text) whose rows
carry the values asked about ("Приточная установка, L=3500 м³/ч, N=2,2 кВт").

:data:`QUESTIONS` pairs questions with the code and the value one image must show together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pymupdf

MM = 72.0 / 25.4
A3 = (420 * MM, 297 * MM)
A2 = (594 * MM, 420 * MM)
CODE = "77/25-СК-ОВ2"

#: (Поз., Наименование, Тип/марка, Код, Завод, Ед., Кол., Масса, Примечание)
SPEC = [
    ("П1", "Приточная установка, L=3500 м³/ч, N=2,2 кВт", "ВЕРОСА-500-035", "В500.035", "Веза", "компл.", "1",
     "412", "Венткамера 0.12"),
    ("П1.1", "Приточная установка, L=900 м³/ч, N=0,55 кВт", "ВЕРОСА-300-009", "В300.009", "Веза", "компл.", "1",
     "168", "Венткамера 0.12"),
    ("В2", "Вентилятор канальный, L=1200 м³/ч, N=0,25 кВт", "ВКК-250", "ВКК.250", "Арктос", "шт.", "2", "14",
     "Санузлы"),
    ("В21", "Вентилятор крышный, L=450 м³/ч, N=0,12 кВт", "КРОВ-160", "КР.160", "Арктос", "шт.", "1", "22",
     "Кровля"),
    ("Р1", "Решётка вентиляционная 400х200", "АМН-К", "АМН.400", "Арктос", "шт.", "12", "0,8", ""),
    ("К1", "Клапан обратный Ø250", "КОМ-250", "КО.250", "Веза", "шт.", "3", "1,2", ""),
]
HEADER = ("Поз.", "Наименование и техническая характеристика", "Тип, марка оборудования",
          "Код изделия", "Завод-изготовитель", "Ед. изм.", "Кол.", "Масса ед., кг", "Примечание")
WIDTHS_MM = (20, 110, 45, 30, 40, 16, 16, 20, 40)


@dataclass(frozen=True)
class Question:
    question: str
    code: str  # what the answer must show
    value: str  # shown together with the code in one image
    kind: str  # "table" | "plan"


QUESTIONS = [
    Question("Какая мощность П1?", "П1", "2,2", "table"),
    Question("Какой расход воздуха у П1.1?", "П1.1", "900", "table"),
    Question("Мощность вентилятора В2", "В2", "0,25", "table"),
    Question("Какой вентилятор В21?", "В21", "КРОВ-160", "table"),
    Question("Марка установки П1", "П1", "ВЕРОСА-500-035", "table"),
    Question("Где расположена П1.1, какой расход на плане?", "П1.1", "900", "plan"),
]


class _Sheet:
    def __init__(self, pdf: pymupdf.Document, size: tuple[float, float]) -> None:
        self.page = pdf.new_page(width=size[0], height=size[1])
        self.size = size
        self.font = pymupdf.Font("helv")
        self.shape = self.page.new_shape()
        self.writer = pymupdf.TextWriter(self.page.rect)

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.4,
             dashes: str | None = None) -> None:
        self.shape.draw_line((x0, y0), (x1, y1))
        self.shape.finish(width=width, color=(0, 0, 0), dashes=dashes)

    def rect(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.5) -> None:
        self.shape.draw_rect(pymupdf.Rect(x0, y0, x1, y1))
        self.shape.finish(width=width, color=(0, 0, 0))

    def text(self, x: float, y: float, s: str, size: float = 7.0) -> None:
        self.writer.append((x, y), s, font=self.font, fontsize=size)

    def width(self, s: str, size: float) -> float:
        return self.font.text_length(s, fontsize=size)

    def finish(self) -> None:
        self.shape.commit()
        self.writer.write_text(self.page)


def _frame_and_stamp(sh: _Sheet, name: str, number: int, total: int) -> None:
    w, h = sh.size
    sh.rect(20 * MM, 5 * MM, w - 5 * MM, h - 5 * MM, width=1.2)
    x, y = w - 190 * MM, h - 60 * MM
    sh.rect(x, y, x + 185 * MM, y + 55 * MM, width=1.0)
    for dy in (15, 30, 40):
        sh.line(x + 65 * MM, y + dy * MM, x + 185 * MM, y + dy * MM, width=0.6)
    sh.line(x + 65 * MM, y, x + 65 * MM, y + 55 * MM, width=0.6)
    sh.line(x + 135 * MM, y + 30 * MM, x + 135 * MM, y + 55 * MM, width=0.6)
    sh.text(x + 90 * MM, y + 9 * MM, CODE, 12)
    sh.text(x + 68 * MM, y + 22 * MM, "Многоквартирный жилой дом, корпус 3", 7)
    sh.text(x + 68 * MM, y + 36 * MM, "Отопление и вентиляция", 7)
    sh.text(x + 138 * MM, y + 34 * MM, "Стадия", 5)
    sh.text(x + 155 * MM, y + 34 * MM, "Лист", 5)
    sh.text(x + 170 * MM, y + 34 * MM, "Листов", 5)
    sh.text(x + 140 * MM, y + 39 * MM, "Р", 7)
    sh.text(x + 157 * MM, y + 39 * MM, str(number), 7)
    sh.text(x + 172 * MM, y + 39 * MM, str(total), 7)
    sh.text(x + 68 * MM, y + 48 * MM, name, 8)
    sh.text(x + 138 * MM, y + 48 * MM, "ООО «ВентПроект»", 7)


def _general(sh: _Sheet) -> None:
    x, y = 30 * MM, 20 * MM
    sh.text(x, y, "Ведомость листов основного комплекта", 9)
    rows = [("Лист", "Наименование", "Примечание"), ("1", "Общие данные", ""),
            ("2", "План вентиляции на отм. 0.000", ""), ("3", "Спецификация оборудования", "")]
    _ruled_table(sh, x, y + 4 * MM, (15 * MM, 110 * MM, 30 * MM), rows, 7.0, 8 * MM)
    notes = ["Общие указания", "1. Системы П1, П1.1 обслуживают помещения 1-го этажа.",
             "2. Вытяжные системы В2, В21 — с естественным побуждением в зимний период.",
             "3. Воздуховоды выполнить из оцинкованной стали по ГОСТ 14918-2020."]
    for i, n in enumerate(notes):
        sh.text(220 * MM, 24 * MM + i * 6 * MM, n, 8 if i == 0 else 7)


def _ruled_table(sh: _Sheet, x: float, y: float, widths: tuple[float, ...], rows: list[tuple[str, ...]],
                 size: float, row_h: float, header_h: float | None = None) -> None:
    header_h = header_h or row_h
    total = sum(widths)
    ys = [y, y + header_h] + [y + header_h + (k + 1) * row_h for k in range(len(rows) - 1)]
    for k, yy in enumerate(ys):
        sh.line(x, yy, x + total, yy, width=0.8 if k <= 1 or k == len(ys) - 1 else 0.3)
    cx = x
    for wd in (0.0, *widths):
        cx += wd
        sh.line(cx, y, cx, ys[-1], width=0.6)
    for r, row in enumerate(rows):
        top, bottom = ys[r], ys[r + 1]
        cx = x
        for wd, cell in zip(widths, row, strict=True):
            lines = _wrap(sh, cell, wd - 3 * MM, size)
            first = (top + bottom) / 2 - (len(lines) - 1) * size * 0.6 + size * 0.35
            for k, ln in enumerate(lines):
                sh.text(cx + 1.5 * MM, first + k * size * 1.2, ln, size)
            cx += wd


def _wrap(sh: _Sheet, text: str, width: float, size: float) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        cand = f"{cur} {w}".strip()
        if cur and sh.width(cand, size) > width:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    return [*lines, cur] if cur else lines or [""]


def _plan(sh: _Sheet) -> None:
    x0, y0 = 50 * MM, 40 * MM
    axes_x = [x0 + i * 90 * MM for i in range(6)]
    axes_y = [y0 + j * 75 * MM for j in range(4)]
    for i, ax in enumerate(axes_x):
        sh.line(ax, axes_y[0] - 12 * MM, ax, axes_y[-1] + 8 * MM, width=0.25, dashes="[10 3 2 3] 0")
        sh.text(ax - 1.5 * MM, axes_y[0] - 14 * MM, str(i + 1), 10)
    for j, ay in enumerate(axes_y):
        sh.line(axes_x[0] - 12 * MM, ay, axes_x[-1] + 8 * MM, ay, width=0.25, dashes="[10 3 2 3] 0")
        sh.text(axes_x[0] - 16 * MM, ay + 1.5 * MM, "АБВГ"[j], 10)
    sh.rect(axes_x[0], axes_y[0], axes_x[-1], axes_y[-1], width=1.4)
    for i in range(1, 5):  # partitions
        sh.line(axes_x[i], axes_y[0], axes_x[i], axes_y[1], width=0.9)
    # Equipment: a box, a leader and a tag with its flow under a shelf line; the tags of П1 and
    # П1.1 sit right on an axis line, where an overlay grid would also fall.
    tags = [("П1", "L=3500 м³/ч", axes_x[1], axes_y[1]), ("П1.1", "L=900 м³/ч", axes_x[2], axes_y[1]),
            ("В2", "L=1200 м³/ч", axes_x[3] + 20 * MM, axes_y[2] - 25 * MM),
            ("В21", "L=450 м³/ч", axes_x[4] + 20 * MM, axes_y[2] + 20 * MM)]
    for code, flow, tx, ty in tags:
        bx, by = tx - 30 * MM, ty + 12 * MM
        sh.rect(bx, by, bx + 18 * MM, by + 10 * MM, width=0.7)
        sh.line(bx + 18 * MM, by, tx, ty, width=0.3)
        shelf = max(sh.width(code, 9), sh.width(flow, 6)) + 2 * MM
        sh.line(tx, ty, tx + shelf, ty, width=0.3)
        sh.text(tx + 1 * MM, ty - 1.2 * MM, code, 9)
        sh.text(tx + 1 * MM, ty + 3.2 * MM, flow, 6)
    # Ducts with sizes.
    for i, size in enumerate(("630х400", "500х300", "400х250", "Ø250")):
        a, b = axes_x[i] + 12 * MM, axes_x[i + 1] - 12 * MM
        yy = axes_y[2] + 35 * MM
        sh.line(a, yy - 2 * MM, b, yy - 2 * MM, width=0.6)
        sh.line(a, yy + 2 * MM, b, yy + 2 * MM, width=0.6)
        sh.text((a + b) / 2 - 8 * MM, yy - 4 * MM, size, 7)
    sh.text(x0, axes_y[-1] + 22 * MM, "План вентиляции на отм. 0.000. М 1:100", 11)


def _spec(sh: _Sheet) -> None:
    x, y = 25 * MM, 22 * MM
    sh.text(x, y - 4 * MM, "Спецификация оборудования, изделий и материалов", 9)
    widths = tuple(v * MM for v in WIDTHS_MM)
    _ruled_table(sh, x, y, widths, [HEADER, *SPEC], size=7.1, row_h=8 * MM, header_h=15 * MM)


def build_vent_set() -> bytes:
    """The three-sheet set as PDF bytes (a real text layer, ruled tables)."""
    pdf = pymupdf.open()
    sheets = [("Общие данные", A3, _general), ("План вентиляции на отм. 0.000", A2, _plan),
              ("Спецификация оборудования", A3, _spec)]
    for n, (name, size, draw) in enumerate(sheets, 1):
        sh = _Sheet(pdf, size)
        draw(sh)
        _frame_and_stamp(sh, name, n, len(sheets))
        sh.finish()
    pdf.set_metadata({"title": "", "creator": "aizoomdoc tests"})
    data = pdf.tobytes(garbage=3, deflate=True)
    pdf.close()
    return data


def write_vent_set(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_vent_set())
    return path
