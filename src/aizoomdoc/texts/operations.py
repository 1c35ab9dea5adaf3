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
    # --- backup and restore ------------------------------------------------------------------------
    "backup.no_target": "Укажите, куда или откуда: папку или s3://БАКЕТ/ПРЕФИКС.",
    "backup.bad_s3_url": "Адрес «{url}» не распознан: нужен s3://БАКЕТ или s3://БАКЕТ/ПРЕФИКС.",
    "backup.bad_scheme": "Адрес «{url}» не поддерживается: укажите папку или s3://БАКЕТ/ПРЕФИКС.",
    "backup.bad_name": "Недопустимое имя части резервной копии «{name}».",
    "backup.folder_error": "Папка резервных копий {location} недоступна: {detail}.",
    "backup.missing_part": "В резервной копии нет файла «{name}».",
    "backup.empty": "В {location} нет ни одной полной резервной копии (aizoomdoc backup list покажет, что там есть).",
    "backup.no_snapshot": "Снимка «{snapshot}» нет в {location} (или он не завершён): см. aizoomdoc backup list.",
    "backup.bad_manifest": "Описание снимка «{snapshot}» (manifest.json) повреждено или не от AIZoomDoc.",
    "backup.newer_format": (
        "Снимок «{snapshot}» записан в формате версии {version}, эта версия AIZoomDoc читает до {supported}: "
        "обновите AIZoomDoc."
    ),
    "backup.restore_corrupt": (
        "Снимок «{snapshot}» повреждён ({detail}): восстановление не начато, ничего не записано. "
        "Проверьте его командой aizoomdoc backup verify или возьмите другой снимок (--snapshot)."
    ),
    "backup.schema_mismatch": (
        "База данных на версии схемы {current}, а программа ожидает {head}: выполните aizoomdoc db upgrade "
        "и повторите восстановление."
    ),
    "backup.not_empty_db": (
        "База данных {target} не пуста ({detail}): восстановление делается в пустую базу. "
        "Чтобы заменить её содержимое снимком, добавьте --force."
    ),
    "backup.not_empty_files": (
        "Хранилище файлов {location} не пусто (файлов: {count}): восстановление делается в пустое хранилище. "
        "Чтобы заменить содержимое, добавьте --force."
    ),
    "backup.stage.tables": "Таблицы",
    "backup.stage.files": "Файлы",
    "backup.stage.manifest": "Описание снимка",
    "backup.stage.parts": "Проверка частей снимка",
    "backup.stage.verify": "Проверка файлов",
    "backup.created": (
        "Резервная копия {snapshot} в {location}: строк {rows} в {tables} таблицах, файлов {files} "
        "(отправлено {sent}, уже были в копии {skipped}; {mb} МБ) за {seconds} с."
    ),
    "backup.vanished": "Файлов удалено во время копирования (их чаты удалены): {count}.",
    "backup.incomplete_removed": "Удалены незавершённые снимки прерванных запусков: {ids}.",
    "backup.restored": (
        "Восстановлен снимок {snapshot} из {location}: строк {rows}, файлов {files} ({mb} МБ) за {seconds} с."
    ),
    "backup.list.none": "В {location} нет снимков.",
    "backup.list.title": "Снимки в {location}",
    "backup.list.col.id": "снимок",
    "backup.list.col.created": "создан",
    "backup.list.col.rows": "строк",
    "backup.list.col.files": "файлов",
    "backup.list.col.size": "МБ",
    "backup.list.incomplete": "не завершён",
    "backup.verify.ok": "Снимок {snapshot} цел: частей {parts}, файлов {files}, проверено объектов {objects}.",
    "backup.verify.failed": "Снимок {snapshot} повреждён: проблем {count}.",
    "backup.problem.part_missing": "нет части {name}",
    "backup.problem.part_corrupt": "часть {name} не совпадает с контрольной суммой",
    "backup.problem.file_missing": "нет файла {file} ({name})",
    "backup.problem.file_corrupt": "файл {file} повреждён: {name} не совпадает с контрольной суммой",
    # --- cache (aizoomdoc doctor) ------------------------------------------------------------------
    "cache.check.redis_ok": "Кэш изображений: Redis {target} отвечает (до {mb} МБ).",
    "cache.check.redis_down": (
        "Redis {target} не отвечает ({detail}): вопросы работают, но изображения рендерятся заново. "
        "Проверьте REDIS_URL и что Redis запущен."
    ),
}
