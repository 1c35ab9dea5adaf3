"""Prompt texts (package data)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=8)
def load_prompt(name: str = "system_ru") -> str:
    return resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8").strip()
