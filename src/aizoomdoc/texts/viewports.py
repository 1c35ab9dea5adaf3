"""User-facing texts (Russian): the direct offline answer about codes (issue 12)."""

TEXTS: dict[str, str] = {
    "offline.code_line": "**{code}**: {value} — {where}",
    "offline.similar": "Похожие обозначения (о них не спрашивали, изображения не приложены):",
    "offline.similar_item": "• стр. {page}, блок {block_id}: {text}",
    "offline.only_similar": (
        "Точного обозначения из вопроса «{question}» в документах не нашлось; есть похожие — проверьте, "
        "не о них ли речь."
    ),
}
