"""User-facing texts (Russian): the HTTP API, `aizoomdoc serve` and `aizoomdoc token`."""

TEXTS: dict[str, str] = {
    # --- auth ---------------------------------------------------------------------------------
    "api.auth.required": (
        "Нужна авторизация: передайте заголовок «Authorization: Bearer <токен>» "
        "(JWT Supabase или API-токен из `aizoomdoc token create`)."
    ),
    "api.auth.invalid": "Токен не принят: {reason}. Войдите заново или создайте новый API-токен.",
    "api.auth.reason.expired": "срок действия истёк",
    "api.auth.reason.signature": "подпись неверна",
    "api.auth.reason.audience": "неверная аудитория (ожидается «authenticated»)",
    "api.auth.reason.no_sub": "в токене нет идентификатора пользователя (sub)",
    "api.auth.reason.malformed": "токен повреждён",
    "api.auth.reason.unknown_token": "API-токен не найден или отозван",
    "api.auth.no_secret": (
        "Режим сервера требует SUPABASE_JWT_SECRET для проверки JWT Supabase. "
        "Задайте его в .env или используйте API-токены."
    ),
    "api.auth.csrf": (
        "Запрос с cookie отклонён: нет заголовка X-AIZoomDoc. Обновите страницу и повторите."
    ),
    "api.auth.local_only": (
        "Локальный режим (AUTH_MODE=local) принимает запросы только с этого компьютера. "
        "Для доступа по сети включите AUTH_MODE=server."
    ),
    "api.serve.non_loopback": (
        "Локальный режим без входа нельзя открыть в сеть (--host {host}). Используйте 127.0.0.1 "
        "или включите AUTH_MODE=server с SUPABASE_JWT_SECRET или API-токенами."
    ),
    "api.serve.starting": "AIZoomDoc: http://{host}:{port}/ (документация API: /docs), режим {mode}, процессов: {workers}",
    "api.token.created": "Токен для пользователя «{user}» (id {token_id}). Сохраните его — он показывается один раз:",
    "api.token.none": "Токенов нет.",
    "api.token.revoked": "Токен {token_id} отозван.",
    "api.token.not_found": "Токен {token_id} не найден.",
    # --- requests -----------------------------------------------------------------------------
    "api.not_found": "Не найдено: {what}.",
    "api.chat_not_found": "Чат {chat_id} не найден.",
    "api.document_not_found": "Документ {document_id} не найден.",
    "api.image_not_found": "Изображение {image_id} не найдено.",
    "api.page_not_found": "В документе нет страницы {page} (всего страниц: {count}).",
    "api.page_no_render": "Документ «{title}» нельзя показать постранично: у него нет PDF или изображения листа.",
    "api.bad_request": "Неверный запрос: {detail}.",
    "api.bad_box": "Неверный запрос: box «{box}»: нужно x1,y1,x2,y2 от 0 до 1.",
    "api.empty_question": "Вопрос пустой. Напишите, что нужно найти в документах.",
    "api.no_documents": "К чату не прикреплено ни одного документа. Загрузите PDF или OCR-пакет и повторите вопрос.",
    "api.events.busy": "Журнал событий чата занят, повторите запрос.",
    "api.signed.invalid": "Ссылка на файл недействительна (подпись неверна). Откройте изображение из чата заново.",
    "api.signed.expired": "Срок действия ссылки на файл истёк. Откройте изображение из чата заново.",
    "api.file_missing": "Файл не найден в хранилище.",
    "api.upload.too_large": (
        "Файл «{name}» больше допустимого размера {limit_mb} МБ (MAX_FILE_SIZE_MB). "
        "Загрузите файл поменьше или увеличьте лимит."
    ),
    "api.upload.empty": "Файл «{name}» пустой.",
    "api.upload.unreadable": (
        "Файл «{name}» не читается: он повреждён, обрезан или сохранён не в том формате. "
        "Ничего не сохранено — проверьте файл и загрузите его заново."
    ),
    "api.upload.no_file": "В запросе нет файла (поле «file» формы multipart/form-data).",
    "api.upload.bad_form": "Не удалось прочитать загрузку: {detail}.",
    "api.queue_full": "Сервер занят: слишком много вопросов в очереди. Повторите через минуту.",
    "api.interrupted": "Сервер остановлен во время ответа; задайте вопрос ещё раз.",
    "api.internal": "Внутренняя ошибка сервера. Подробности в журнале сервера.",
    "api.status.online": "в сети",
    "api.status.offline": "нет связи",
    "api.default_chat_title": "Новый чат",
    "api.ingest.stage.upload": "Загрузка файла",
    "api.ingest.stage.read": "Чтение документа",
    "api.ingest.stage.index": "Индексирование",
    "api.ingest.stage.done": "Документ готов",
}
