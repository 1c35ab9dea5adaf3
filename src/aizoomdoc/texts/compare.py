"""User-facing texts (Russian): revision compare (`aizoomdoc compare`, the API, the web view, chat)."""

TEXTS: dict[str, str] = {
    "compare.old": "старой версии",
    "compare.new": "новой версии",
    "compare.note.images_not_compared": (
        "Чертёж не сравнивался: нет PDF. Текст изображений ({count}) — описание модели — сравнивался "
        "только там, где блок описан почти так же: при новом распознавании описание меняется целиком."
    ),
    "compare.note.ocr_failures": "Блоков, не распознанных OCR в {version}: {count} — их текст не сравнивался.",
    "compare.note.truncated": "Показаны {shown} изменений из {total}.",
    "compare.note.no_pdf_one": "Чертёж не сравнивался: PDF есть только у одной из версий.",
    "compare.note.scanned": "Скан: текста в PDF нет, изображения листов сравнивались с допуском — мелкие различия сканирования не в счёт.",
    "compare.note.render_failed": "Чертёж не сравнивался: лист не удалось отрисовать.",
}
TEXTS.update({
    # --- errors --------------------------------------------------------------------------------
    "compare.timeout": (
        "Сравнение {what} не уложилось в {seconds} с и остановлено. Сравните части комплекта по "
        "отдельности или увеличьте COMPARE_TIMEOUT."
    ),
    "compare.memory": (
        "Сравнению {what} не хватило памяти (предел {limit} МБ) — вероятно, листы слишком велики. "
        "Увеличьте COMPARE_MAX_MEMORY_MB или уменьшите COMPARE_RENDER_MAX_PIXELS."
    ),
    "compare.failed": "Не удалось сравнить {what}: внутренняя ошибка ({detail}). Файлы не изменены.",
    "compare.not_ready": (
        "Документ «{title}» ещё не готов к сравнению ({status}): дождитесь окончания обработки "
        "и повторите сравнение."
    ),
    "compare.same_document": "Для сравнения нужны два разных документа — выбран один и тот же.",
    "compare.need_two": "Для сравнения в чате нужны хотя бы два документа (старая и новая версия).",
})
TEXTS.update({
    # --- what a change is, for people -------------------------------------------------------------
    "compare.kind.text_changed": "текст изменён",
    "compare.kind.text_added": "текст добавлен",
    "compare.kind.text_removed": "текст удалён",
    "compare.kind.text_moved": "текст перемещён",
    "compare.kind.table_row_changed": "строка таблицы изменена",
    "compare.kind.table_row_added": "строка таблицы добавлена",
    "compare.kind.table_row_removed": "строка таблицы удалена",
    "compare.kind.drawing_changed": "изменение на чертеже",
    "compare.status.same": "без изменений",
    "compare.status.changed": "изменён",
    "compare.status.added": "добавлен",
    "compare.status.removed": "удалён",
    "compare.cell": "столбец {column}: «{old}» → «{new}»",
    "compare.zone": "{vertical} {horizontal}",
    "compare.zone.top": "вверху",
    "compare.zone.middle": "в середине",
    "compare.zone.bottom": "внизу",
    "compare.zone.left": "слева",
    "compare.zone.center": "по центру",
    "compare.zone.right": "справа",
    "compare.place": "в области {zone} листа",
    "compare.sheet": "Лист {sheet}",
    "compare.page_only": "Стр. {page}",
    "compare.pages": "стр. {old} → {new}",
    "compare.split_from": "(выделен из листа {sheet})",
    # --- the report (CLI) -------------------------------------------------------------------------
    "compare.header": "Сравнение: «{old}» → «{new}»",
    "compare.summary": (
        "Листов: {sheets} — без изменений {same}, изменено {changed}, добавлено {added}, удалено {removed}; "
        "изменений: {changes}."
    ),
    "compare.no_changes": "Различий не найдено.",
    "compare.sheet_line": "{sheet}{title} ({pages}): {status}{count}",
    "compare.count": ", изменений: {count}",
    "compare.register.header": "Реестр изменений новой версии (стр. {pages}): новых строк {count}.",
    "compare.register.not_updated": "Реестр не дополнен: в нём нет ни одной строки, которой не было в старой версии.",
    "compare.register.entry": "Изм. {revision}, лист {sheets}: {text}",
    "compare.register.named_unchanged": "Названы в реестре, но изменений на них не найдено: {sheets}.",
    "compare.register.changed_unnamed": "Изменены, но в реестре не названы: {sheets}.",
    "compare.register.named_missing": "Названы в реестре, но таких листов нет: {sheets}.",
    "compare.register.consistent": "Реестр совпадает с найденными изменениями.",
    "compare.register.none": "Реестр изменений («Изм. | Лист | Содержание изменения») в новой версии не найден.",
    "compare.working": "Сравниваю версии…",
})
TEXTS.update({
    "compare.not_in_chat": "Документ {document_id} не прикреплён к этому чату — сравнивать можно документы чата.",
})
TEXTS.update({
    # --- chat answers («что изменилось на листе 5 между изм.7 и изм.8?») ---------------------------
    "compare.chat.header": "**Сравнение версий:** «{old}» → «{new}».",
    "compare.chat.was": "Было:",
    "compare.chat.now": "Стало:",
    "compare.chat.cite": "{version} стр. {page}, блок {block}",
    "compare.chat.no_sheet": "Лист {sheets} в комплекте не найден (листы: {known}).",
    "compare.chat.more": "Показаны {shown} изменений из {total} — все изменения: кнопка «Сравнить версии» над чатом.",
    "compare.chat.same": "Изменений на листе не найдено.",
    "compare.chat.register": "Реестр изменений: изм. {revision}, лист {sheets} — «{text}».",
    "compare.chat.change_id": "p{page}-изм{n}",
})
