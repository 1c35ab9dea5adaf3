"""User-facing texts (Russian): documents, ingest and search."""

TEXTS: dict[str, str] = {
    # --- reading documents -------------------------------------------------------------------
    "documents.not_found": "Файл не найден: {path}. Проверьте путь.",
    "documents.not_a_file": "{path} — не файл. Укажите путь к PDF, изображению или разметке OCR.",
    "documents.unreadable": "Не удалось прочитать файл {path}: {detail}.",
    "documents.empty": "Файл {path} пуст (0 байт). Скопируйте или выгрузите его заново.",
    "documents.too_large": (
        "Файл {path} слишком большой: {size_mb} МБ при пределе {limit_mb} МБ. "
        "Уменьшите файл или увеличьте MAX_FILE_SIZE_MB."
    ),
    "documents.unsupported": (
        "Формат файла {path} не распознан. Поддерживаются: PDF, PNG/JPG, разметка OCR "
        "(*_annotation.json, *_result.json, *_ocr.html) и Markdown (*.md)."
    ),
    "documents.wrong_extension": (
        "Расширение файла {path} ({ext}) не соответствует содержимому: внутри {actual}. "
        "Переименуйте файл или проверьте, что выбран нужный."
    ),
    "documents.bad_encoding": (
        "Файл {path} обрезан посреди символа или записан не в UTF-8 (позиция {offset}). "
        "Выгрузите файл заново."
    ),
    "documents.pdf_corrupt": (
        "Файл {path} не открывается как PDF ({detail}). Возможно, он повреждён или обрезан — "
        "выгрузите PDF заново."
    ),
    "documents.pdf_unreadable": "структура файла не читается",
    "documents.pdf_page_unreadable": "страница {page} не читается",
    "documents.pdf_encrypted": (
        "PDF {path} защищён паролем. Снимите защиту (сохраните копию без пароля) и повторите."
    ),
    "documents.pdf_no_pages": "В PDF {path} нет ни одной страницы.",
    "documents.json_invalid": (
        "Файл {path} — неполный или повреждённый JSON ({detail}). Выгрузите разметку OCR заново."
    ),
    "documents.json_structure": "Файл {path} не похож на разметку OCR: {detail}.",
    "documents.html_invalid": "Файл {path} — повреждённый OCR HTML: {detail}. Выгрузите его заново.",
    "documents.markdown_invalid": "Файл {path} — повреждённый Markdown OCR: {detail}.",
    "documents.no_blocks": (
        "В файле {path} нет ни одного блока с текстом или изображением — искать в нём нечего."
    ),
    "documents.image_invalid": "Изображение {path} не читается ({detail}). Пересохраните его в PNG или JPG.",
    "documents.bundle_pdf_mismatch": (
        "PDF {pdf} рядом с разметкой {path} не подходит к ней: в PDF {pdf_pages} стр., "
        "а разметка ссылается на стр. {bundle_pages}."
    ),
    # --- ingest ------------------------------------------------------------------------------
    "ingest.reading": "Чтение {name}",
    "ingest.done": "Загружен {name}: страниц — {pages}, блоков — {blocks} (id {document_id}).",
    "ingest.already": "Уже загружен {name} (id {document_id}) — тот же файл, ничего не изменено.",
    "ingest.failed": "Не загружен {name}: {error}",
    "ingest.summary": "Загружено: {added}, уже были: {skipped}, с ошибками: {failed}.",
    "ingest.storage_failed": "Не удалось сохранить исходный файл {name} в хранилище: {detail}.",
    "ingest.db_failed": "Не удалось записать документ {name} в базу данных: {detail}.",
    # --- search ------------------------------------------------------------------------------
    "search.document_not_found": (
        "Документ «{ref}» не найден: это не путь к файлу и не id загруженного документа. "
        "Загрузите его командой `aizoomdoc ingest ПУТЬ`."
    ),
    "search.no_documents": "Нет загруженных документов. Загрузите их: `aizoomdoc ingest ПУТЬ`.",
    "search.no_hits": "Ничего не найдено по запросу «{query}».",
    "search.empty_query": "Пустой запрос: введите слова или шифры для поиска.",
    "search.header": "Найдено {count} по запросу «{query}»",
    "search.col.score": "Оценка",
    "search.col.document": "Документ",
    "search.col.page": "Стр.",
    "search.col.block": "Блок",
    "search.col.type": "Тип",
    "search.col.text": "Текст",
    "search.index_corrupt": "Поисковый индекс в {path} повреждён и будет перестроен.",
    # --- sample set --------------------------------------------------------------------------
    "sample.written": "Синтетический комплект чертежей записан: {path} (листов: {pages}).",
    "documents.list.empty": "Загруженных документов нет.",
    "documents.json_invalid.where": "строка {line}, столбец {column}: {msg}",
    "documents.structure.no_pages": "нет списка pages",
    "documents.count.blocks": "{count} блоков",
    "documents.format.pdf": "PDF",
    "documents.format.image": "изображение PNG/JPG",
    "documents.format.json_bundle": "разметка OCR в JSON",
    "documents.format.ocr_html": "OCR HTML",
    "documents.format.markdown": "Markdown",
    "documents.example.mark": "Какие характеристики у {mark}?",
    "documents.example.standard": "Что за документ {standard}?",
    "documents.example.sheet": "Что показано на листе «{name}»?",
    "documents.example.equipment": "Найди всё оборудование и его марки",
    "documents.image_size.mp": "{mp} Мпикс",
    "documents.image_size.pixels": "{width}×{height} пикселей",
    "documents.warn.and_more": " и ещё {count}",
    "documents.word.block.one": "блок",
    "documents.word.block.few": "блока",
    "documents.word.block.many": "блоков",
    "documents.word.page.one": "страница",
    "documents.word.page.few": "страницы",
    "documents.word.page.many": "страниц",
    "documents.title.with_revision": "{title} (изм.{revision})",
    "documents.html.no_blocks": "не найдено ни одного блока",
    "documents.pdf_corrupt.truncated": "файл обрезан: нет конца PDF (%%EOF)",
}
