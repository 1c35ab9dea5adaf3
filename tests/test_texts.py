"""What a user reads exists: every text key the code uses is in aizoomdoc/texts, every setting is
documented in env.example, and a missing text is an error, not a key shown to the user."""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest

from aizoomdoc import errors, texts
from aizoomdoc.config import Settings
from aizoomdoc.texts import MissingTextError, t

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "aizoomdoc"
KEY_LIKE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
#: Strings shaped like keys that are file names ("files.jsonl.gz").
FILE_SUFFIXES = {"gz", "json", "jsonl", "png", "jpg", "pdf", "md", "txt", "html", "csv"}
KEY_LINE = re.compile(r"#?\s*[A-Z][A-Z0-9_]*=.*")
ERROR_CLASSES = {name for name, obj in vars(errors).items()
                 if isinstance(obj, type) and issubclass(obj, errors.AizoomdocError)}


def _used_keys() -> list[tuple[str, int, str]]:
    """(file, line, key) of every text key written literally in src/: the first argument of ``t()``
    and of the error classes, and any other string shaped like a key of a catalog namespace
    (keys handed to helpers, tables of keys). Foreign-key targets (``documents.id``) are not keys."""
    namespaces = {k.split(".", 1)[0] for k in texts.keys()}
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if SRC / "texts" in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        not_keys: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in ("ForeignKey", "ForeignKeyConstraint"):
                    not_keys.update(id(a) for a in ast.walk(node))
        for node in ast.walk(tree):
            if id(node) in not_keys:
                continue
            if isinstance(node, ast.Call) and node.args:
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                first = node.args[0]
                if (name == "t" or name in ERROR_CLASSES) and isinstance(first, ast.Constant) \
                        and isinstance(first.value, str):
                    found.append((str(path.relative_to(ROOT)), node.lineno, first.value))
                    not_keys.add(id(first))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and KEY_LIKE.fullmatch(node.value) and node.value.split(".", 1)[0] in namespaces \
                    and node.value.rsplit(".", 1)[-1] not in FILE_SUFFIXES:
                found.append((str(path.relative_to(ROOT)), node.lineno, node.value))
    return found


def test_every_text_key_used_in_the_code_exists() -> None:
    used = _used_keys()
    assert len(used) > 300  # the scan really sees the code
    catalog = texts.keys()
    missing = [f"{file}:{line}: {key}" for file, line, key in used if key not in catalog]
    assert not missing, "text keys without a text:\n" + "\n".join(missing)


def test_a_missing_text_raises_in_tests_and_is_logged_otherwise(monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    assert texts.STRICT  # tests/conftest.py
    with pytest.raises(MissingTextError, match="no.such.key"):
        t("no.such.key")
    with pytest.raises(MissingTextError, match="store.bad_id"):
        t("store.bad_id")  # its text needs {field} and {value}
    assert "идентификатор" in t("store.bad_id", field="chat_id", value="x")

    monkeypatch.setattr(texts, "STRICT", False)
    with caplog.at_level(logging.ERROR, logger="aizoomdoc.texts"):
        assert t("no.such.key") == "no.such.key"  # the user still sees something
    assert "no.such.key" in caplog.text


def _env_example() -> dict[str, tuple[str, str]]:
    """NAME -> (its line, the comment just above it) of env.example (set or commented out)."""
    lines = (ROOT / "env.example").read_text(encoding="utf-8").splitlines()
    out = {}
    for i, line in enumerate(lines):
        m = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=.*", line.strip())
        if m:
            out[m.group(1)] = (line, lines[i - 1] if i else "")
    return out


def test_every_setting_is_documented_in_env_example() -> None:
    documented = _env_example()
    fields = {name.upper() for name in Settings.model_fields}
    undocumented = sorted(fields - set(documented))
    assert not undocumented, f"settings missing from env.example: {undocumented}"
    stale = sorted(set(documented) - fields)
    assert not stale, f"env.example documents variables Settings does not read: {stale}"
    uncommented = sorted(name for name, (_line, above) in documented.items()
                         if not above.lstrip().startswith("#") or KEY_LINE.fullmatch(above.strip()))
    assert not uncommented, f"env.example variables without a comment above them: {uncommented}"



def test_env_example_names_each_setting_once_with_a_value_settings_accepts(tmp_path: Path) -> None:
    """Copied to ``.env`` with every example uncommented, env.example still loads: no variable is
    listed twice (the second would silently win) and no example value is one Settings refuses."""
    lines = (ROOT / "env.example").read_text(encoding="utf-8").splitlines()
    names = [m.group(1) for line in lines if (m := re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=.*", line.strip()))]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    every = tmp_path / ".env"
    every.write_text("\n".join(m.group(1) if (m := re.fullmatch(r"#\s*([A-Z][A-Z0-9_]*=.*)", line.strip()))
                               else line for line in lines), encoding="utf-8")
    loaded = Settings(_env_file=every)
    assert {name for name in Settings.model_fields if name in loaded.model_fields_set} == \
        {name.lower() for name in names}
