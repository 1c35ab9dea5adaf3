"""User-facing texts (Russian): store (database, migrations, `aizoomdoc db`, `aizoomdoc doctor`)."""

TEXTS: dict[str, str] = {
    # --- connection -------------------------------------------------------------------------
    "db.url_invalid": (
        "DATABASE_URL не распознана ({detail}). Ожидается postgresql://пользователь:пароль@хост:порт/база "
        "или sqlite:///путь/к/файлу.db. Проверьте .env или переменные окружения."
    ),
    "db.unavailable.refused": (
        "База данных PostgreSQL на {target} недоступна: соединение отклонено. "
        "Проверьте, что сервер запущен и DATABASE_URL указывает верные хост и порт."
    ),
    "db.unavailable.timeout": (
        "База данных PostgreSQL на {target} не ответила за {timeout} с. "
        "Проверьте сеть, брандмауэр и хост в DATABASE_URL (или увеличьте DB_CONNECT_TIMEOUT)."
    ),
    "db.unavailable.dns": (
        "Хост базы данных {host} не найден (DNS). Проверьте имя хоста в DATABASE_URL."
    ),
    "db.unavailable.auth": (
        "PostgreSQL на {target} отклонил вход пользователя «{user}». "
        "Проверьте имя пользователя и пароль в DATABASE_URL."
    ),
    "db.unavailable.no_database": (
        "На сервере {target} нет базы данных «{database}». "
        "Создайте её или исправьте имя базы в DATABASE_URL."
    ),
    "db.unavailable.other": (
        "Не удалось подключиться к базе данных {target}: {detail}. Проверьте DATABASE_URL."
    ),
    "db.unavailable.sqlite": (
        "Не удалось открыть файл базы SQLite {target}: {detail}. "
        "Проверьте DATA_DIR: каталог должен существовать и быть доступен для записи."
    ),
    "db.schema_missing": (
        "В базе {target} нет таблиц AIZoomDoc. Выполните «aizoomdoc db upgrade» "
        "(или «python scripts/manage_db.py upgrade»)."
    ),
    "db.error": "Ошибка базы данных {target}: {detail}.",
    "db.forbidden": "Нет доступа: запись принадлежит другому пользователю или нарушает правила доступа (RLS).",
    # --- input validation ---------------------------------------------------------------------
    "store.bad_id": "Неверный идентификатор {field}: «{value}». Ожидается UUID вида 123e4567-e89b-12d3-a456-426614174000.",
    "store.bad_role": "Неверная роль сообщения «{value}». Допустимые роли: {allowed}.",
    "store.bad_image_type": "Неверный тип изображения «{value}». Допустимые типы: {allowed}.",
    "store.bad_sync_state": "Неверное состояние синхронизации «{value}». Допустимые: {allowed}.",
    "store.empty": "Поле {field} не может быть пустым.",
    "store.bad_type": "Поле {field} должно быть {expected}, получено: {got}.",
    "store.not_json": "Поле {field} нельзя сохранить как JSON: {detail}.",
    "store.bad_number": "Поле {field} должно быть целым числом не меньше {minimum}, получено: {value}.",
    "store.bad_limit": "Параметр limit должен быть целым числом от 1 до {maximum}, получено: {value}.",
    "store.unknown_fields": "Нельзя изменить поля чата: {fields}. Можно: {allowed}.",
    "store.no_fields": "Не указано ни одного поля для изменения чата.",
    "store.missing_field": "В строке {index} нет обязательного поля {field}.",
    "store.bulk_not_list": "Ожидается список строк (словарей), получено: {got}.",
    "store.chat_not_found": "Чат {chat_id} не найден (или у вас нет к нему доступа).",
    "store.message_not_found": "Сообщение {message_id} не найдено в чате {chat_id}.",
    "store.message_not_found_any": "Сообщение {message_id} не найдено.",
    # --- migrations / CLI -------------------------------------------------------------------
    "db.migrations_missing": (
        "Не найден каталог миграций {path}. Запускайте команду из каталога проекта "
        "или укажите путь в AIZOOMDOC_MIGRATIONS_DIR."
    ),
    "db.migration_error": "Ошибка миграции: {detail}.",
    "db.cli.upgraded": "База {target} обновлена до версии {revision}.",
    "db.cli.downgraded": "База {target} откачена до версии {revision}.",
    "db.cli.current": "Текущая версия базы {target}: {revision}",
    "db.cli.current_none": "База {target} ещё не инициализирована (нет применённых миграций).",
    "db.cli.head_note": "(последняя)",
    "db.cli.behind_note": "(не последняя: последняя {head}; выполните «aizoomdoc db upgrade»)",
    "db.cli.created": "Создан файл миграции: {path}",
    "db.cli.no_changes": "Изменений схемы не найдено; файл миграции не создан.",
    "db.cli.initialized": "База {target} готова: таблицы созданы, версия {revision}.",
    "db.cli.empty_message": "Укажите описание миграции, например: aizoomdoc db migrate \"добавить поле\"",
    # --- doctor -------------------------------------------------------------------------------
    "doctor.title": "Проверка AIZoomDoc",
    "doctor.config.ok": "Настройки прочитаны (база: {backend}, данные: {data_dir})",
    "doctor.config.fail": "Настройки не прочитаны: {detail}. Исправьте .env или переменные окружения (см. env.example).",
    "doctor.db.ok": "База данных доступна: {target}",
    "doctor.db.disabled": (
        "База данных отключена (USE_DATABASE=false): чаты и документы хранятся, только пока работает "
        "программа, и удаляются при выходе."
    ),
    "doctor.migrations.ok": "Схема базы на последней версии ({revision})",
    "doctor.migrations.none": "База не инициализирована. Выполните «aizoomdoc db upgrade».",
    "doctor.migrations.sqlite_new": (
        "Локальная база ещё пуста — схема ({head}) будет создана автоматически при первом вопросе"
    ),
    "doctor.migrations.sqlite_behind": (
        "Схема локальной базы устарела ({current} → {head}) — обновится автоматически при следующем "
        "запуске (или сейчас: «aizoomdoc db upgrade»)"
    ),
    "doctor.migrations.behind": "Схема базы устарела ({current} → {head}). Выполните «aizoomdoc db upgrade».",
    "doctor.migrations.unknown": (
        "Версия схемы базы {current} неизвестна этой версии программы (последняя {head}). "
        "Обновите AIZoomDoc или проверьте DATABASE_URL."
    ),
    "doctor.skipped": "пропущено: {reason}",
    "doctor.summary.ok": "Всё в порядке.",
    "doctor.summary.fail": "Есть проблемы: {count}. Исправьте пункты, отмеченные ✘.",
    "db.url.no_host": "не указан хост",
    "db.url.no_database": "не указано имя базы данных",
    "db.url.unsupported_scheme": "схема «{scheme}» не поддерживается",
    "db.url.scheme": "схема «{scheme}»",
    "db.url.no_scheme": "без схемы",
    "store.type.string": "строкой",
    "store.type.number": "числом",
    "db.target.queue": "очередь задач",
}
