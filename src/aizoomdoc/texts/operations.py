"""User-facing texts (Russian): backup and restore, usage statistics, the render cache."""

TEXTS: dict[str, str] = {
    # --- statistics ------------------------------------------------------------------------------
    "stats.bad_prices": (
        "LLM_PRICES не разобран: нужен JSON вида {\"модель\": {\"in\": 0.3, \"out\": 2.5}} — цены за миллион "
        "токенов. Исправьте LLM_PRICES или оставьте пустым (без оценки стоимости)."
    ),
    "stats.bad_timezone": (
        "Часовой пояс STATS_TIMEZONE «{value}» не найден: укажите имя вроде Europe/Moscow или UTC."
    ),
    "stats.bad_date": "Дата {name} «{value}» не распознана: укажите её в виде ГГГГ-ММ-ДД, например 2026-01-31.",
    "stats.bad_period": "Период задан наоборот: --since {since} позже --until {until}.",
    "stats.forbidden_user": (
        "Статистика других пользователей видна только администраторам (ADMIN_USER_IDS)."
    ),
    "stats.title": "Статистика использования",
    "stats.period.all": "за всё время",
    "stats.period": "период: {since} — {until}",
    "stats.user": "пользователь: {user}",
    "stats.row.questions": "Вопросы",
    "stats.row.answers": "Ответы",
    "stats.row.errors": "Ошибки",
    "stats.row.llm_calls": "Вызовы модели",
    "stats.row.tokens": "Токены (вход / выход)",
    "stats.row.cost": "Оценка стоимости",
    "stats.row.images": "Изображения (из кэша)",
    "stats.row.documents": "Документы загружено (страниц, из них OCR)",
    "stats.row.users": "Пользователи",
    "stats.row.answer_time": "Время ответа, медиана / 95%",
    "stats.cost.none": "— (LLM_PRICES не задан)",
    "stats.cost.unpriced": "без цены: {models}",
    "stats.by_day": "По дням",
    "stats.col.day": "день",
    "stats.col.questions": "вопросы",
    "stats.col.tokens": "токены",
    "stats.col.answer_time": "медиана, с",
    "stats.by_user": "По пользователям",
    "stats.col.user": "пользователь",
    "stats.empty": "Вопросов за этот период не было.",
}
