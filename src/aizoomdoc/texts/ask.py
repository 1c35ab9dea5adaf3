"""User-facing texts (Russian): ask — viewports, zooms, the LLM loop, the ask pipeline, chats."""

TEXTS: dict[str, str] = {
    # --- zoom refusals (tool results the model reads and can act on) -----------------------------
    "zoom.where.page": "страницы {page}",
    "zoom.where.image": "изображения {image_id}",
    "zoom.refuse.outside": (
        "Отказ: область {box} выходит за пределы {where}. Координаты bbox — доли от 0 до 1 "
        "[x1, y1, x2, y2], начало в левом верхнем углу. Повторите zoom с координатами в этих пределах."
    ),
    "zoom.refuse.empty": (
        "Отказ: область {box} пустая (x2 должно быть больше x1, y2 больше y1). "
        "Укажите bbox как [x1, y1, x2, y2] со значениями от 0 до 1."
    ),
    "zoom.refuse.unknown_image": (
        "Отказ: изображения «{image_id}» нет. Доступные изображения: {known}. "
        "Укажите image_id одного из них или page и bbox."
    ),
    "zoom.refuse.bad_cell": (
        "Отказ: ячейки «{cell}» нет на сетке изображения {image_id}. Ячейки от A1 до {last} "
        "(буква — столбец слева направо, цифра — строка сверху вниз), диапазон — «A1:B2»."
    ),
    "zoom.refuse.bad_bbox": (
        "Отказ: bbox «{value}» не понят. Нужен список из четырёх чисел [x1, y1, x2, y2] от 0 до 1."
    ),
    "zoom.refuse.need_box": (
        "Отказ: для изображения {image_id} укажите cell (например «B2») или bbox внутри изображения."
    ),
    "zoom.refuse.unknown_document": (
        "Отказ: документ «{document_id}» не найден. Доступные документы: {known}."
    ),
    "zoom.refuse.need_page": "Отказ: укажите page — номер страницы (с 1) — или image_id показанного изображения.",
    "zoom.refuse.page_range": "Отказ: страницы {page} нет, в документе страницы с 1 по {count}.",
    "zoom.refuse.need_bbox": "Отказ: укажите bbox [x1, y1, x2, y2] (доли от 0 до 1) области на странице.",
    "zoom.refuse.no_pdf": (
        "Отказ: у документа «{document_id}» нет PDF или изображения листа — доступны только текст и "
        "координаты блоков. Отвечайте по тексту блоков."
    ),
    "zoom.refuse.render_failed": "Отказ: не удалось отрисовать область ({detail}). Попробуйте другую область.",
    "zoom.done": (
        "Изображение {image_id}: стр. {page}, область {box}, {width}×{height} px, {dpi} dpi. "
        "Оно приложено ниже. Сетка A1…{last} для следующего zoom по cell."
    ),
    # --- other tools ---------------------------------------------------------------------------
    "tool.request_images.unknown_block": "Блока «{block_id}» нет в документах этого вопроса.",
    "tool.request_images.no_blocks": "Укажите block_ids — список идентификаторов блоков.",
    "tool.request_images.done": "Изображения блоков приложены ниже: {ids}.",
    "tool.search.empty_query": "Укажите query — текст для поиска.",
    "tool.search.nothing": "По запросу «{query}» ничего не найдено.",
    "tool.error.bad_json": (
        "Ошибка вызова {name}: аргументы не являются корректным JSON ({detail}). "
        "Повторите вызов с аргументами — JSON-объектом по схеме инструмента."
    ),
    "tool.error.unknown_tool": (
        "Ошибка: инструмента «{name}» нет. Доступны: {known}. Повторите вызов с одним из них."
    ),
    "tool.image_omitted": "[изображение {image_id} убрано из контекста ради лимита; при необходимости запросите его снова через zoom]",
    "tool.text_omitted": "[текст сокращён ради лимита символов]",
    "llm.final_step": (
        "Лимит шагов исчерпан. Ответьте сейчас по тому, что уже видно, без вызова инструментов."
    ),
    "llm.corrective": (
        "Предыдущий вызов инструмента был некорректен. Исправьте его по подсказке выше или ответьте текстом."
    ),
    # --- LLM errors ----------------------------------------------------------------------------
    "llm.error.http": "Модель ответила ошибкой HTTP {status} после {attempts} попыток: {detail}. Попробуйте позже.",
    "llm.error.timeout": "Модель не ответила за {timeout} с (попыток: {attempts}). Попробуйте позже или увеличьте LLM_TIMEOUT.",
    "llm.error.connect": "Не удалось связаться с моделью по адресу {url}: {detail}. Проверьте LLM_BASE_URL и сеть.",
    "llm.error.auth": "Модель отклонила ключ (HTTP {status}). Проверьте LLM_API_KEY.",
    "llm.error.garbage": "Модель вернула некорректный ответ ({detail}). Попробуйте ещё раз или другую модель (LLM_MODEL).",
    "llm.error.bad_tool_call": (
        "Модель дважды подряд вызвала инструмент некорректно ({detail}). Ответ не получен; "
        "попробуйте переформулировать вопрос или выбрать другую модель (LLM_MODEL)."
    ),
    "llm.error.empty": "Модель вернула пустой ответ. Попробуйте ещё раз.",
    "llm.error.no_model": "Языковая модель не подключена (LLM_API_KEY не задан): вести диалог с моделью нельзя.",
    # --- LLM endpoint check (`aizoomdoc doctor`) ----------------------------------------------
    "llm.check.connect": "Сервер модели {url} недоступен ({detail}). Проверьте LLM_BASE_URL и сеть.",
    "llm.check.refused": "соединение не установлено",
    "llm.error.dropped": "соединение оборвалось",
    "llm.check.timeout": "Сервер модели {url} не ответил за {timeout} с. Проверьте LLM_BASE_URL и сеть.",
    "llm.check.http": (
        "Сервер модели {url} ответил HTTP {status} на запрос списка моделей ({detail}). "
        "Проверьте LLM_BASE_URL (OpenAI-совместимый адрес, обычно оканчивается на /v1)."
    ),
    "doctor.llm.direct": (
        "Языковая модель не используется (LLM_API_KEY не задан): ответы собирает офлайн-режим "
        "из найденных фрагментов"
    ),
    "doctor.llm.ok": "Модель доступна: {url}, {auth} ({elapsed} мс); {model_note}",
    "doctor.llm.key_accepted": "ключ принят",
    "doctor.llm.no_key": "без ключа (LLM_API_KEY=none)",
    "doctor.llm.model_listed": "модель «{model}» есть в списке сервера",
    "doctor.llm.model_missing": (
        "модели «{model}» нет в списке сервера (всего моделей: {count}) — если вопросы не проходят, "
        "проверьте LLM_MODEL"
    ),
    "doctor.llm.model_unknown": "сервер не вернул список моделей, модель «{model}» не проверена",
    # --- direct answerer (no language model) ----------------------------------------------------------------------
    "direct.notice": (
        "Ответ собран без языковой модели (LLM_API_KEY не задан): ниже найденные фрагменты "
        "документа с указанием страниц и блоков."
    ),
    "direct.nothing": "По вопросу «{question}» в документах ничего не найдено. Переформулируйте вопрос или укажите шифр/обозначение точно как на чертеже.",
    "direct.found": "Найдено фрагментов: {count} (страницы: {pages}).",
    "direct.hit": "{n}. Стр. {page}, блок {block_id}{sheet}: {text}",
    "direct.images": "Изображения областей: {ids}.",
    "direct.more": "…и ещё {count}.",
    "direct.weak": "Ещё совпадений с низкой релевантностью (не показаны): {count}.",
    "direct.list_found": "Найдено позиций: {count} (страницы: {pages}). Перечень по страницам:",
    "direct.list_page": "Стр. {page}{sheet}:",
    "direct.list_item": "• {text} — блок {block_id}{where}",
    "direct.list_row": "строка таблицы",
    "direct.list_also": "также стр. {pages}",
    "direct.list_image": "изображение {label}",
    "ask.list_note": (
        "Это вопрос-перечень: перечислите все подходящие позиции из найденных блоков (со страницей "
        "и блоком для каждой), а не только лучшие."
    ),
    "ask.text_only": (
        "Для документа «{title}» нет PDF — доступны только текст и координаты блоков, "
        "изображения областей не построены."
    ),
    # --- pipeline ------------------------------------------------------------------------------
    "ask.stage.chat": "Чат",
    "ask.stage.documents": "Документы",
    "ask.stage.attachments": "Вложения",
    "ask.stage.search": "Поиск",
    "ask.stage.viewports": "Области",
    "ask.stage.llm": "Модель",
    "ask.stage.save": "Сохранение",
    "ask.error.empty_question": "Вопрос пуст. Напишите, что нужно найти в документах.",
    "ask.error.no_documents": "Не указаны документы. Укажите --doc ПУТЬ (PDF или OCR-пакет) или id документа.",
    "ask.error.document_not_found": "Документ «{ref}» не найден: это не файл и не id загруженного документа.",
    "ask.error.chat_not_found": "Чат {chat_id} не найден.",
    "ask.error.failed": "Не удалось получить ответ: {detail}",
    "ask.error.attachment": "Вложение «{name}» не прочитано: {detail}. Укажите путь к файлу PNG или JPG.",
    "ask.error.attachment_image": (
        "Вложение «{name}» не читается как изображение. Приложите PNG или JPG (пересохраните файл при необходимости)."
    ),
    "ask.summary.title": "Краткое содержание предыдущей беседы:",
    "ask.summary.user": "Вопрос: {text}",
    "ask.summary.assistant": "Ответ: {text}",
    # --- CLI -----------------------------------------------------------------------------------
    "cli.ask.answer": "Ответ",
    "cli.ask.citations": "Источники",
    "cli.ask.images": "Изображения",
    "cli.ask.chat": "Чат: {chat_id} (продолжить: --chat {chat_id})",
    "cli.ask.citation": "стр. {page}, блок {block_id} — {title}",
    "cli.ask.citation_untitled": "стр. {page}, блок {block_id} (документ {document_id})",
    "cli.ask.image": "{label} ({image_type}, {page}{width}×{height}): {where}",
    "cli.ask.image_page": "стр. {page}, ",
    "cli.ask.archived": (
        "Чат {chat_id} в архиве: ответ сохранён в нём, чат остаётся в архиве "
        "(виден в `aizoomdoc chats list --archived`)."
    ),
    "cli.chats.none": "Чатов нет.",
    "cli.hint.chats_list": "Список чатов: `aizoomdoc chats list --archived`.",
    "cli.chats.archived": "Чат {chat_id} в архиве.",
    "cli.chats.deleted": "Чат {chat_id} удалён (файлов удалено: {files}).",
    "cli.chats.title": "Чаты",
    "cli.chats.col.id": "id",
    "cli.chats.col.title": "Название",
    "cli.chats.col.updated": "Изменён",
    "cli.chats.col.archived": "Архив",
    "llm.error.detail.tool_after_limit": "вызов инструмента после лимита шагов",
    "llm.error.detail.unknown_tool": "неизвестный инструмент «{name}»",
    "llm.error.detail.bad_json": "аргументы {name} не JSON",
    "llm.image_caption": "Изображение {label}: {caption}",
    "llm.error.detail.stream_not_json": "не JSON в потоке: {payload}",
    "llm.error.detail.stream_not_object": "фрагмент потока не объект",
    "llm.error.detail.stream_empty": "пустой поток",
    "direct.kind.spec": "спецификация",
    "direct.kind.statement": "ведомость",
    "direct.kind.general": "общие данные",
    "direct.kind.plan": "план",
    "direct.kind.section": "разрез",
    "direct.kind.scheme": "схема",
    "direct.kind.facade": "фасад",
    "direct.kind.details": "узлы",
    "direct.kind.table": "таблица",
    "direct.kind.drawing": "чертёж",
    "direct.where": "стр. {page}, {kind}",
    "direct.sheet": ", лист «{name}»",
    "direct.document": ", документ «{title}»",
    "direct.image": ", изображение {label}",
    "ask.caption.attachment": "вложение пользователя «{name}»",
    "ask.interrupted": "прервано",
    "ask.caption.zoom_of": "увеличение {source}, стр. {page}",
    "tool.request_images.block_text": "Блок {block_id} (стр. {page}), полный текст: {text}",
    "ask.caption.block": "блок {block_id}, стр. {page}",
    "tool.search.hit": "[{n}] стр. {page}, блок {block_id}: {text}",
    "ask.caption.row_with_header": "строка {blocks} с шапкой таблицы над ней (ячейка обведена красным)",
    "ask.caption.blocks": "блоки {blocks} (обведены красным)",
    "ask.caption.part.key": ", ключевые столбцы",
    "ask.caption.part.values": ", столбцы значений",
    "ask.caption.grid": ", сетка A1…{last_cell}",
    "ask.caption.viewport": "стр. {page}, {what}{part}{grid}",
}
