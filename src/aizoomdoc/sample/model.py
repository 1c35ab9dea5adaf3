"""The synthetic drawing set as data: its constants, where each label and region lies, block ids.

Shared by :mod:`aizoomdoc.sample.drawing` (which draws the PDF and fills these records) and
:mod:`aizoomdoc.sample.bundles` (which describes the same regions in every OCR bundle format), so
tests can check coordinates and block ids against what was drawn.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
