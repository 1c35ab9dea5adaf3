"""User-facing texts (Russian): OCR, background jobs, document status, document search API."""

TEXTS: dict[str, str] = {
    # --- OCR ----------------------------------------------------------------------------------
    "ocr.missing.engine": (
        "OCR недоступен: не установлен модуль tesserocr. Установите его: `pip install tesserocr` "
        "и `apt-get install tesseract-ocr tesseract-ocr-rus`."
    ),
    "ocr.missing.language": (
        "OCR недоступен: нет языковых данных Tesseract «{lang}». Установите их: "
        "`apt-get install tesseract-ocr tesseract-ocr-rus` (или укажите папку в OCR_TESSDATA_DIR)."
    ),
    "ocr.failed.timeout": "распознавание заняло больше {detail} с и было остановлено",
    "ocr.failed.memory": "распознаванию не хватило памяти (OCR_MEMORY_MB)",
    "ocr.failed.error": "ошибка распознавания",
    "ocr.unreadable_note": (
        "В документе «{title}» не прочитаны страницы {pages}: у них нет текстового слоя (скан) или он "
        "испорчен. {reason}"
    ),
    "ocr.unreadable_failed": "Распознать их не удалось: {detail}.",
    "ocr.processing_note": (
        "Документ «{title}» ещё обрабатывается ({status}): поиск по нему пока неполный, "
        "повторите вопрос, когда обработка закончится."
    ),
    "ocr.bad_mode": "Неизвестный режим OCR «{mode}»: допустимы auto, always, never.",
    # --- document status ------------------------------------------------------------------------
    "jobs.status.queued": "в очереди",
    "jobs.status.processing": "обрабатывается",
    "jobs.status.ready": "готов",
    "jobs.status.error": "ошибка",
    "jobs.error": "{message}",
    "jobs.stage.queued": "В очереди на обработку",
    "jobs.stage.ocr": "Распознавание (OCR): {done} из {total} стр.",
    "ingest.unreadable": "⚠ {name}: не прочитаны страницы {pages}. {reason}",
    # --- worker ---------------------------------------------------------------------------------
    "worker.needs_postgres": (
        "`aizoomdoc worker` работает с очередью задач в PostgreSQL (задайте DATABASE_URL). "
        "С SQLite задачи выполняет сам `aizoomdoc serve` в своих процессах, отдельный воркер не нужен."
    ),
    "worker.started": "Воркер запущен: очередь в {target}, задач одновременно: {concurrency}. Остановка — Ctrl+C.",
    "worker.no_schema": "Схема базы {target} устарела или не создана (нет очереди задач): выполните `aizoomdoc db upgrade`.",
}
