"""User-facing texts (Russian): the direct answer (no language model) about codes (issue 12)."""

TEXTS: dict[str, str] = {
    "direct.code_line": "**{code}**: {value} — {where}",
    "direct.similar": "Похожие обозначения (о них не спрашивали, изображения не приложены):",
    "direct.similar_item": "• стр. {page}, блок {block_id}: {text}",
    "direct.only_similar": (
        "Точного обозначения из вопроса «{question}» в документах не нашлось; есть похожие — проверьте, "
        "не о них ли речь."
    ),
}
