"""Everything a user reads lives in aizoomdoc/texts: no Russian string literal in the code outside it,
except the domain vocabulary the code uses to READ or MATCH drawings and questions (patterns,
keyword lists, the synthetic sample set's drawing content) and what is addressed to the language model.
Docstrings and comments are English or quote drawings; they are not checked."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "aizoomdoc"
CYRILLIC = re.compile(r"[\u0400-\u04FF]")

#: Modules whose Russian literals are all vocabulary (or model-facing), each with the reason.
ALLOWED_MODULES: dict[str, str] = {
    "search/analyzer.py": "Russian stems, abbreviations and units the search index analyses drawings with",
    "search/fields.py": "Russian names of drawing fields (шифр, лист, марка …) matched in questions",
    "search/lookalike.py": "Cyrillic/Latin lookalike letters of marks and codes read from drawings",
    "search/numbers.py": "Russian number words and units matched in questions and drawing text",
    "search/query.py": "patterns of Russian questions (listing, «все», «какие есть»)",
    "compare/normalize.py": "Cyrillic letters and OCR confusions normalised when comparing drawing text",
    "compare/register.py": "headings and marks of a revision register (изм., лист, зам., аннул.)",
    "compare/content.py": "OCR failure and bundle artifact lines matched in drawing text",
    "documents/pdf.py": "title-block labels and stages read from a PDF sheet (стадия, лист, разраб.)",
    "documents/markdown.py": "headings of OCR Markdown bundles (СТРАНИЦА, Штамп, Лист, ИЗОБРАЖЕНИЕ)",
    "documents/ocr_html.py": "labels of OCR HTML bundles (Тип, Оси, краткое описание, шифр …)",
    "documents/text.py": "searchable block text composed in the drawings' words (Шифр, Оси, Штамп)",
    "documents/json_repair.py": "a pattern for bare Cyrillic keys in broken OCR JSON",
    "documents/text_layer.py": "placeholders OCR pipelines write instead of text («нет данных», «ошибка»)",
    "sample/bundles.py": "the synthetic sample set: OCR bundle content as real pipelines write it",
    "sample/drawing.py": "the synthetic sample set: drawing content (titles, tables, notes on sheets)",
    "sample/model.py": "the synthetic sample set: the drawing set's data (sheets, equipment, specs)",
    "llm/context.py": "model-facing: the context message the language model reads",
    "llm/tools.py": "model-facing: tool descriptions for the language model",
    "documents/ocr.py": "letters of the drawing type that OCR confuses («0Г» → «ОГ», «(» → «С»): reading vocabulary",
}

#: Modules with user texts in texts/ but some vocabulary: the module-level constants that hold it.
ALLOWED_CONSTANTS: dict[str, tuple[set[str], str]] = {
    "documents/base.py": ({"_STAMP_KEYS"}, "title-block field names as OCR markup writes them"),
    "documents/examples.py": ({"_GENERAL_DATA", "_MARK", "_STANDARD"}, "marks, standards, sheet names"),
    "documents/title.py": ({"REVISION"}, "how file names mark a revision (изм.2)"),
    "llm/direct.py": ({"_KINDS"}, "stems of sheet names that tell the kind of a sheet"),
    "pipeline/compare_chat.py": (
        {"_CHANGED", "_DIFFERS", "_VERSIONS", "_SHEET", "_REVISION", "_NOT_WORD", "_LIST_SEP"},
        "how Russian questions ask about changes, sheets and revisions",
    ),
    "api/documents.py": ({"_CYRILLIC"}, "tells a Russian error detail from a raw one"),
}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _in_constants(tree: ast.Module, names: set[str]) -> set[int]:
    """Nodes inside the module-level assignments to ``names``."""
    out: set[int] = set()
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else \
            [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        if any(isinstance(tg, ast.Name) and tg.id in names for tg in targets):
            out.update(id(n) for n in ast.walk(stmt))
    return out


def _inline_russian(path: Path, allowed_names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _docstrings(tree) | _in_constants(tree, allowed_names)
    return [f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            and CYRILLIC.search(node.value)]


def test_no_russian_literal_outside_texts() -> None:
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("texts/") or rel in ALLOWED_MODULES:
            continue
        found += _inline_russian(path, ALLOWED_CONSTANTS.get(rel, (set(), ""))[0])
    assert not found, ("Russian text in the code: move it to aizoomdoc/texts (t(\"key\")), or, if it is "
                       "vocabulary for reading drawings, a named module-level constant allowed here:\n"
                       + "\n".join(found))


def test_the_allow_list_names_what_exists() -> None:
    for rel in [*ALLOWED_MODULES, *ALLOWED_CONSTANTS]:
        assert (SRC / rel).is_file(), rel
    for rel, (names, _reason) in ALLOWED_CONSTANTS.items():
        tree = ast.parse((SRC / rel).read_text(encoding="utf-8"))
        assigned = {tg.id for stmt in tree.body if isinstance(stmt, (ast.Assign, ast.AnnAssign))
                    for tg in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                    if isinstance(tg, ast.Name)}
        assert names <= assigned, f"{rel}: {sorted(names - assigned)} are not module-level constants"
