"""User-facing texts (Russian): files (local folder and S3-compatible storage)."""

TEXTS: dict[str, str] = {
    # --- limits and input ---------------------------------------------------------------------
    "files.too_large": (
        "Файл «{name}» слишком большой: {size_mb} МБ при ограничении MAX_FILE_SIZE_MB={limit_mb} МБ. "
        "Уменьшите файл или увеличьте MAX_FILE_SIZE_MB."
    ),
    "files.not_found": "Файл «{file}» не найден в хранилище.",
    "files.source_missing": "Файл «{path}» не найден на диске: проверьте путь.",
    "files.bad_key": "Недопустимый ключ файла «{value}»: {reason}.",
    "files.bad_key.empty": "ключ пустой",
    "files.bad_key.absolute": "ключ не может начинаться с «/»",
    "files.bad_key.segment": "части пути не могут быть пустыми, «.», «..» или начинаться с точки",
    "files.bad_key.chars": "ключ содержит управляющие символы или «\\»",
    "files.bad_key.long": "ключ длиннее 1024 байт",
    "files.bad_chat_id": (
        "Недопустимый идентификатор чата «{chat_id}»: допустимы латинские буквы, цифры, «-» и «_» "
        "(до 128 символов)."
    ),
    "files.bad_prefix": (
        "Нельзя удалить всё хранилище: укажите непустой префикс, например «chats/<id>/»."
    ),
    "files.bad_expiry": (
        "Срок действия ссылки должен быть от 1 до {max} секунд (7 дней), получено {value}."
    ),
    "files.bad_metadata": "Недопустимые метаданные файла: {reason}.",
    "files.bad_item": (
        "Элемент №{index} для upload_many не распознан: ожидается (bytes | путь, ключ[, content_type]) "
        "или словарь с data/file_path и s3_key."
    ),
    # --- signed links (local backend) ---------------------------------------------------------
    "files.signed.invalid": "Ссылка на файл недействительна: подпись не совпадает.",
    "files.signed.expired": "Срок действия ссылки на файл истёк — запросите новую.",
    # --- S3 -----------------------------------------------------------------------------------
    "files.s3.not_configured": (
        "Хранилище S3 включено (USE_S3_STORAGE=true), но не заданы: {names}. "
        "Укажите их в .env или отключите USE_S3_STORAGE."
    ),
    "files.s3.bad_bucket": (
        "Недопустимое имя бакета S3_BUCKET «{bucket}»: допустимы латинские буквы, цифры, «.», «-» и «_» "
        "(для S3 — 3–63 строчных латинских буквы, цифры и «-»). Исправьте S3_BUCKET."
    ),
    "files.s3.bad_endpoint": (
        "S3_ENDPOINT_URL «{endpoint}» — не адрес сервера: нужен http:// или https:// и имя хоста, "
        "например https://s3.cloud.ru. Исправьте S3_ENDPOINT_URL."
    ),
    "files.s3.bad_region": (
        "Недопустимый регион S3_REGION «{region}»: допустимы латинские буквы, цифры и «-», например "
        "ru-central-1. Исправьте S3_REGION."
    ),
    "files.s3.bad_credentials": (
        "S3 ({endpoint}) отклонил ключи доступа ({code}). Проверьте S3_ACCESS_KEY и S3_SECRET_KEY "
        "(для cloud.ru ключ доступа имеет вид <tenant_id>:<key_id>)."
    ),
    "files.s3.access_denied": (
        "S3 ({endpoint}) отказал в доступе: операция «{action}», бакет «{bucket}». Проверьте "
        "S3_ACCESS_KEY и S3_SECRET_KEY и права этого ключа на бакет."
    ),
    "files.s3.no_bucket": (
        "Бакет «{bucket}» не существует на {endpoint}. Создайте его командой "
        "`aizoomdoc storage init` или исправьте S3_BUCKET."
    ),
    "files.s3.unreachable": (
        "Хранилище S3 недоступно по адресу {endpoint} ({detail}). Проверьте S3_ENDPOINT_URL и сеть."
    ),
    "files.s3.failed": "Ошибка S3 при операции «{action}»: {code} — {detail}.",
    "files.s3.bucket_create_failed": "Не удалось создать бакет «{bucket}»: {code} — {detail}.",
    # --- local folder -------------------------------------------------------------------------
    "files.local.failed": (
        "Не удалось выполнить «{action}» в локальном хранилище {path}: {detail}. "
        "Проверьте права на DATA_DIR и свободное место."
    ),
    # --- CLI ----------------------------------------------------------------------------------
    "files.cli.help": "Файловое хранилище: локальная папка или S3 (cloud.ru, SeaweedFS, MinIO, AWS).",
    "files.cli.init.help": "Создать бакет S3_BUCKET (или папку DATA_DIR/files для локального хранилища).",
    "files.cli.check.help": "Проверить хранилище: запись, чтение, подписанную ссылку и удаление.",
    "files.cli.init.created": "Бакет «{bucket}» создан на {endpoint}.",
    "files.cli.init.exists": "Бакет «{bucket}» уже существует на {endpoint} — ничего не изменено.",
    "files.cli.init.local": "Локальное хранилище готово: {path}.",
    "files.cli.check.backend": "Хранилище: {backend} — {location}",
    "files.cli.check.ok": "Запись, чтение, подписанная ссылка и удаление работают ({elapsed} мс).",
    "doctor.files.local.ok": "Папка файлов доступна для записи: {path} ({elapsed} мс)",
    "doctor.files.s3.ok": (
        "Хранилище S3 доступно: бакет «{bucket}» на {endpoint}, запись, чтение и удаление работают "
        "({elapsed} мс)"
    ),
    "files.cli.check.signed_failed": (
        "Подписанная ссылка не открылась (HTTP {status}). Проверьте S3_ADDRESSING_STYLE, S3_REGION "
        "и точность часов на этом компьютере."
    ),
    "files.bad_metadata.not_mapping": "ожидается словарь {{ключ: значение}}",
    "files.bad_metadata.key": "ключ «{name}» — допустимы латинские буквы, цифры, «-» и «_»",
    "files.bad_metadata.too_large": "больше {limit} байт после кодирования ({total})",
    "files.bad_metadata.not_bytes": "upload_bytes ожидает bytes",
    "files.check.mismatch": "прочитано не то, что записано",
    "files.local.outside_root": "путь выходит за пределы хранилища",
    "files.local.action.write": "запись",
    "files.local.action.read": "чтение",
    "files.local.action.list": "список файлов",
    "files.local.action.delete": "удаление",
    "files.local.action.mkdir": "создание папки",
    "files.s3.detail.none": "без пояснения",
    "files.s3.detail.connect_timeout": "нет соединения за {seconds} с",
    "files.s3.detail.read_timeout": "нет ответа за {seconds} с",
    "files.s3.detail.no_connection": "соединение не установлено",
}
