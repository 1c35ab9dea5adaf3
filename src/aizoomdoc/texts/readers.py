"""User-facing texts (Russian): what a reader tells about a file it read only in part, pages
without a text layer, and files that are not documents (crop indexes, layout-only markup)."""

TEXTS: dict[str, str] = {
    # --- warnings: a broken part costs that part ---------------------------------------------
    "documents.warned": "загружен с предупреждениями: {summary}",
    "documents.warn.json_broken": "{count} {blocks} с повреждённым JSON ({where})",
    "documents.warn.fence_unclosed": "{count} {blocks} с незакрытым ``` ({where})",
    "documents.warn.page_missing": "без заголовка страницы: {count} {blocks}, страница взята по соседним блокам ({where})",
    "documents.warn.duplicate_id": "{count} {blocks} с повторяющимся id ({where})",
    "documents.warn.bad_block": "{count} {blocks} не прочитаны и пропущены ({where})",
    "documents.warn.truncated": "файл обрезан — прочитано то, что было до обрыва ({where})",
    "documents.warn.page_unreadable": "{count} {pages} PDF не читаются ({where})",
    "documents.warn.where.line": "строка {line}",
    "documents.warn.where.lines": "строки {lines}",
    "documents.warn.where.page": "стр. {page}",
    "documents.warn.where.pages": "стр. {pages}",
    "documents.warn.where.block": "блок {block}",
    "documents.warn.where.blocks": "блоки {blocks}",
    # --- text layer --------------------------------------------------------------------------
    "documents.text_layer.none": "нет текстового слоя",
    "documents.text_layer.garbage": "текстовый слой нечитаем (шрифты без кодировки)",
    "documents.text_layer.summary": "стр. без текста: {pages}",
    "documents.text_layer.ingest": (
        "{pages} — {what}: текст этих страниц не извлечён, поиск по ним ничего не найдёт "
        "(нужно распознавание, OCR)."
    ),
    "documents.text_layer.ocr": "{pages} — {what}: текст распознан OCR.",
    "documents.unreadable_pages": (
        "В документе «{title}» не прочитаны стр. {pages} ({what}) — ответ их не учитывает; "
        "проверьте эти листы сами или загрузите документ с распознанным текстом."
    ),
    # --- files that are not documents --------------------------------------------------------
    "documents.crop_index": (
        "Файл {path} — индекс кропов (_blocks.json: id, тип и ссылка на кроп каждого блока), в нём нет "
        "текста страниц. Загрузите документ, к которому он относится: {hint}."
    ),
    "documents.layout_only": (
        "Файл {path} — разметка без текста (только расположение {blocks} на {pages} стр.), искать в ней "
        "нечего. Загрузите PDF этого документа (рядом с разметкой, с тем же именем) или его результат OCR "
        "(*_result.json, *_ocr.html, *_document.md)."
    ),
    "documents.flat_list_empty": "В файле {path} список блоков без текста — искать в нём нечего.",
}
