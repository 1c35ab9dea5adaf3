"""The examples/ scripts (the original integration's usage examples) run against the default store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))

EXPECTED = {
    "01_chats.py": ["Анализ документа XYZ", "Архивный чат среди активных: False"],
    "02_messages.py": ["[user] Найди информацию о системах вентиляции",
                       "[assistant] Обнаружил информацию о вентиляции на странице 5..."],
    "03_images.py": ["- viewport_step_1.png (viewport)", "URL: "],
    "04_search_results.py": ["Page 5: Система вентиляции состоит из...", "Сообщений: 1 результатов: 4"],
    "05_check_connection.py": ["✅ БД подключена"],
    "06_integration_examples.py": ["✅ Чат создан", "Папок: 2, файлов в разделе: 2, вложений к вопросу: 1",
                                   "Файлов чата в хранилище: 4", "После удаления: 0 файлов, чат в БД: None"],
}


def test_every_example_is_checked() -> None:
    assert {p.name for p in EXAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SUPABASE_", "S3_", "LLM_", "DATABASE_URL", "USE_", "DATA_DIR"))}
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONIOENCODING="utf-8")
    r = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    for snippet in EXPECTED[script.name]:
        assert snippet in r.stdout, r.stdout
