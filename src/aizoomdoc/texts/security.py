"""User-facing texts (Russian): limits on untrusted files and requests (issue 11, docs/API.md «Security model»)."""

TEXTS: dict[str, str] = {
    # --- rendering and parsing in worker processes ---------------------------------------------
    "zoom.too_complex": (
        "Страница {page} слишком сложная для отрисовки ({reason}). Откройте её в программе "
        "просмотра PDF или загрузите упрощённую копию."
    ),
    "documents.too_complex": (
        "Файл {path} слишком сложный для разбора ({reason}). Ничего не сохранено — "
        "упростите файл или разделите его на части."
    ),
    "limit.reason.time": "не уложилась в {seconds} с",
    "limit.reason.memory": "нужно больше {memory_mb} МБ памяти",
    "limit.reason.recursion": "слишком глубокая вложенность",
    "limit.reason.crash": "обработчик аварийно завершился",
    "limit.reason.operators": "{count} операций рисования при пределе {limit}",
    "documents.too_deep": (
        "Файл {path} не разобран: слишком глубокая вложенность данных. Выгрузите разметку OCR заново."
    ),
    "documents.image_too_large": (
        "Изображение {path} слишком большое: {size} при пределе {limit_mp} Мпикс "
        "(MAX_IMAGE_PIXELS). Уменьшите разрешение или разрежьте лист на части."
    ),
    # --- requests ------------------------------------------------------------------------------
    "api.too_deep": "Неверный запрос: слишком глубокая вложенность JSON.",
    "api.host_refused": (
        "Запрос к «{host}» отклонён: локальный режим отвечает только по адресам 127.0.0.1, "
        "localhost и [::1]. Откройте http://127.0.0.1:ПОРТ/."
    ),
    "api.csrf_local": (
        "Запрос отклонён: изменяющий запрос без заголовка X-AIZoomDoc пришёл не со страницы "
        "AIZoomDoc (защита от чужих сайтов). Обновите страницу и повторите."
    ),
    "api.upload.content_type": (
        "Загрузка отклонена: тип содержимого «{ctype}» не подходит. Отправьте файл как "
        "multipart/form-data или application/octet-stream."
    ),
    "api.upload.truncated": (
        "Загрузка оборвалась: получена не вся форма (нет завершающей границы multipart). "
        "Ничего не сохранено — загрузите файл заново."
    ),
    "api.upload.short_body": (
        "Загрузка оборвалась: получено {got} из {expected} байт. Ничего не сохранено — загрузите файл заново."
    ),
    "api.limit.questions": (
        "У вас уже {count} вопросов в работе (предел API_MAX_QUEUED_QUESTIONS = {limit}). "
        "Дождитесь ответов и повторите."
    ),
    "api.limit.streams": (
        "Открыто слишком много потоков событий ({limit}, API_MAX_STREAMS_PER_USER). "
        "Закройте лишние вкладки AIZoomDoc и обновите страницу."
    ),
}
