"""User-facing texts (Russian): the document library (folders, files, attachments)."""

TEXTS: dict[str, str] = {
    # --- store --------------------------------------------------------------------------------
    "library.folder_not_found": "Папка {folder_id} не найдена.",
    "library.file_not_found": "Файл {file_id} не найден в библиотеке.",
    "library.message_not_found": "Сообщение {message_id} не найдено.",
    "library.document_not_found": "Документ {document_id} не найден.",
    "library.folder_exists": "Папка «{name}» здесь уже есть: выберите другое имя.",
    "library.bad_name": "Недопустимое имя папки «{name}»: {reason}.",
    "library.too_deep": "Слишком глубокая вложенность: папки вкладываются не более чем на {max} уровней.",
    "library.bad_source_type": "Недопустимый тип файла «{value}»: допустимы {allowed}.",
    "library.needs_storage_path": (
        "Для файла типа {source_type} укажите storage_path — ключ файла в хранилище."
    ),
    "library.needs_external_url": "Для внешней ссылки (external_link) укажите external_url.",
    "library.bad_url": "Недопустимая ссылка «{value}»: нужна ссылка вида http://… или https://….",
    "library.bad_sha256": "Недопустимая контрольная сумма «{value}»: ожидается SHA-256 (64 шестнадцатеричных знака).",
    "library.other_user": "Нельзя записывать в библиотеку другого пользователя.",
    "library.owner_mismatch": "Папка (или сообщение) и файл принадлежат разным пользователям.",
    "library.not_in_folder": "Файла {file_id} нет в папке «{folder}».",
    "files.bad_file_object": (
        "upload_file_object ожидает файл, открытый в двоичном режиме (open(путь, \"rb\")) или io.BytesIO, "
        "получено: {got}."
    ),
    # --- service ------------------------------------------------------------------------------
    "library.not_a_document": (
        "Файл «{name}» — не документ, по нему нельзя искать: к чату прикрепляются PDF, изображения "
        "листов и разметка OCR. Прикрепите его к сообщению."
    ),
    "library.folder_ref_not_found": "Папка «{ref}» не найдена.",
    "library.folder_ref_ambiguous": "Папок «{ref}» несколько: укажите id папки.",
    "library.no_storage_key": "У документа {document_id} нет файла в хранилище: загрузите его заново.",
    # --- CLI ----------------------------------------------------------------------------------
    "library.cli.help": "Библиотека документов: папки (проект → раздел), файлы в папках, вложения.",
    "library.cli.hint": "Список папок: aizoomdoc library folders.",
    "library.cli.no_folders": "Папок пока нет: aizoomdoc library mkdir «Проект».",
    "library.cli.folders_title": "Папки",
    "library.cli.created": "Папка «{path}» создана: {folder_id}",
    "library.cli.renamed": "Папка переименована: «{name}».",
    "library.cli.empty_folder": "В папке «{path}» нет файлов.",
    "library.cli.added": "«{name}» в папке «{path}» (файл {file_id}).",
    "library.cli.add_failed": "«{name}» не добавлен: {error}",
    "library.cli.attached_chat": "Документ «{name}» прикреплён к чату {chat_id}.",
    "library.cli.attached_message": "Файл «{name}» прикреплён к сообщению {message_id}.",
    "library.cli.attach_target": "Укажите, куда прикрепить: --chat ID или --message ID.",
    "library.cli.removed": "Файл убран из папки «{path}».",
    "library.cli.deleted": "Удалено папок: {folders}; файлов удалено: {deleted}, оставлено (нужны другим папкам или чатам): {kept}.",
    "library.cli.deleted_file": "удалён файл «{name}»",
    "library.cli.col.id": "id",
    "library.cli.col.name": "Файл",
    "library.cli.col.kind": "Тип",
    "library.cli.col.size": "Размер",
    "library.cli.kind.document": "документ",
    "library.cli.kind.file": "файл",
    "library.cli.kind.link": "ссылка",
    "library.cli.kind.generated": "изображение ответа",
    "library.bad_name.too_long": "не длиннее {limit} символов",
}
