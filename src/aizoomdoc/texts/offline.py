"""User-facing texts (Russian): offline mode, the journal, `aizoomdoc sync` and `aizoomdoc status`."""

TEXTS: dict[str, str] = {
    # --- what the user sees while offline ------------------------------------------------------
    "offline.db": (
        "Нет связи с базой данных — работаю локально: всё сохранено в журнале на этом компьютере "
        "и будет отправлено, когда связь восстановится (ожидают отправки: {pending})."
    ),
    "offline.s3": (
        "Хранилище S3 недоступно — файлы сохранены локально и будут загружены, когда связь "
        "восстановится (ожидают загрузки: {pending})."
    ),
    "offline.journal.unavailable": (
        "Не удалось открыть журнал офлайн-режима {path}: {detail}. Проверьте DATA_DIR: каталог должен "
        "существовать и быть доступен для записи."
    ),
    # --- aizoomdoc sync --------------------------------------------------------------------------
    "sync.help": "Отправить в облако всё, что записано без связи (журнал), и показать итог.",
    "sync.nothing": "Журнал пуст: отправлять нечего.",
    "sync.start": "Синхронизация: записей в журнале — {db}, файлов — {files}.",
    "sync.progress.db": "База данных: отправлено {done}, осталось {remaining}",
    "sync.progress.files": "Файлы: загружено {done}, осталось {remaining}",
    "sync.done": (
        "Готово за {elapsed} с: записей отправлено — {applied}, файлов загружено — {uploaded}, "
        "конфликтов — {conflicts}."
    ),
    "sync.left": "Осталось в журнале: записей — {db}, файлов — {files}. Повторите «aizoomdoc sync» позже.",
    "sync.busy": "Синхронизация уже идёт в другом процессе — дождитесь её окончания.",
    "sync.db_error": "База данных: {detail}",
    "sync.files_error": "Хранилище файлов: {detail}",
    "sync.conflicts_hint": "Есть конфликты: подробности — «aizoomdoc status».",
    # --- aizoomdoc status ----------------------------------------------------------------------
    "status.help": "Состояние связи с базой данных и S3, что ждёт отправки и какие есть конфликты.",
    "status.db.online": "База данных: на связи ({target})",
    "status.db.offline": "База данных: нет связи ({target}) — записи копятся в локальном журнале",
    "status.db.local": "База данных: локальная SQLite ({target}) — синхронизация не нужна",
    "status.s3.online": "Хранилище S3: на связи ({target})",
    "status.s3.offline": "Хранилище S3: нет связи ({target}) — файлы сохраняются локально",
    "status.s3.local": "Файлы: локальная папка ({target})",
    "status.pending": "Ожидают отправки: записей — {db}, файлов — {files}.",
    "status.pending.none": "Ожидают отправки: ничего, всё синхронизировано.",
    "status.last_sync": "Последняя синхронизация: {at} ({result})",
    "status.last_sync.ok": "успешно",
    "status.last_sync.partial": "не завершена",
    "status.conflicts": "Конфликты (не применены, сохранены в журнале): {count}",
    "status.notices": "Применено по правилу (для сведения): {count}",
    "status.conflict.line": "  • {when}: {what} — {why}",
    # --- aizoomdoc doctor --------------------------------------------------------------------------
    "doctor.journal.pending": (
        "Офлайн-журнал: ожидают синхронизации: {count} (записей — {db}, файлов — {files}). "
        "Выполните «aizoomdoc sync», когда база данных и S3 доступны."
    ),
    "doctor.journal.conflicts": (
        "Офлайн-журнал: конфликтов, не применённых при синхронизации: {count}. "
        "Подробности — «aizoomdoc status»."
    ),
    # --- conflict kinds ----------------------------------------------------------------------------
    "conflict.chat_deleted": "чат {chat_id} удалён в облаке, пока вы были без связи; запись не применена",
    "conflict.message_missing": "сообщение, к которому относится запись, не найдено в облаке; запись не применена",
    "conflict.chat_archived": "сообщение добавлено в чат {chat_id}, который архивирован на другом устройстве; "
                              "чат остался в архиве",
    "conflict.file_missing": "локальная копия файла пропала до загрузки в S3",
    "conflict.error": "запись не удалось применить: {detail}",
    "conflict.unknown_op": "неизвестная операция в журнале",
    "conflict.op.create_chat": "создание чата",
    "conflict.op.update_chat": "изменение чата",
    "conflict.op.delete_chat": "удаление чата",
    "conflict.op.add_message": "сообщение «{preview}»",
    "conflict.op.add_image": "изображение {name}",
    "conflict.op.add_result": "найденный блок {block_id}",
    "conflict.op.mark_uploaded": "ссылка на файл {file}",
    "conflict.op.upload": "файл {file}",
    "sync.s3_not_configured": "S3 не настроено",
}
