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
    "api.app.create_app.description": (
        "Вопросы к комплектам чертежей: поиск блоков, увеличенные фрагменты, ответы со ссылками."
    ),
    "api.auth.me.summary": "Кто я: пользователь и режим авторизации",
    "api.auth.create_session.summary": "Обменять токен на cookie сессии (для браузера)",
    "api.auth.delete_session.summary": "Выйти (удалить cookie сессии)",
    "api.chats.list_chats.summary": "Список чатов (последние сверху)",
    "api.chats.create_chat.summary": "Новый чат (можно сразу с документами)",
    "api.chats.get_chat.summary": "Чат с историей: сообщения, изображения, найденные блоки",
    "api.chats.update_chat.summary": "Переименовать, архивировать, сменить документы чата",
    "api.chats.delete_chat.summary": "Удалить чат со всеми сообщениями и изображениями",
    "api.chats.list_chats.archived.description": "false — активные, true — архив, all — все",
    "api.chats.list_chats.q.description": "фильтр по названию",
    "api.compare.compare.summary": "Сравнить две версии комплекта (документы пользователя)",
    "api.compare.compare.old.description": "id старой версии",
    "api.compare.compare.new.description": "id новой версии",
    "api.compare.compare.chat_id.description": "оба документа должны быть в этом чате",
    "api.compare.compare.text_only.description": "только текст и таблицы, без сравнения чертежа",
    "api.search_documents.summary": "Поиск блоков по документам пользователя (без чата)",
    "api.search_documents.q.description": "запрос: слова и шифры",
    "api.search_documents.document_id.description": "только эти документы (можно несколько)",
    "api.search_documents.limit.description": "сколько блоков вернуть",
    "api.documents.upload.summary": "Загрузить документ(ы): сразу ответ со статусом queued, обработка в фоне",
    "api.documents.list_documents.summary": "Документы пользователя (новые сверху)",
    "api.documents.get_document.summary": "Документ: статус обработки и её ход, страницы (OCR), штамп",
    "api.documents.delete_document.summary": "Удалить документ (блоки и файлы тоже)",
    "api.documents.upload.filename.description": "имя файла для загрузки без multipart",
    "api.documents.upload.chat_id.description": "сразу прикрепить к чату",
    "api.documents.upload.ocr.description": "OCR страниц: auto (по умолчанию), always, never",
    "api.documents.upload.wait.description": "ответить, когда документ обработан (ready/error)",
    "api.events.stream_events.summary": "Поток событий чата (SSE): прогресс, токены, изображения, ответ",
    "api.events.stream_events.after.description": "номер события, после которого начать",
    "api.events.stream_events.until.description": "закрыть поток после ответа на этот вопрос",
    "api.examples.examples.summary": "Примеры вопросов по блокам документа",
    "api.images.list_images.summary": "Изображения чата со свежими подписанными ссылками",
    "api.images.open_image.summary": "Перейти к изображению по свежей подписанной ссылке (307)",
    "api.images.image_info.summary": "Запись об изображении",
    "api.images.signed_file.summary": "Файл локального хранилища по подписанной ссылке",
    "api.library.list_folders.summary": "Папки пользователя (дерево: parent_id, path, depth)",
    "api.library.create_folder.summary": "Новая папка (в корне или внутри parent_id)",
    "api.library.rename_folder.summary": "Переименовать папку",
    "api.library.delete_folder.summary": "Удалить папку с подпапками (файлы, нужные другим папкам и чатам, остаются)",
    "api.library.folder_files.summary": "Файлы папки (в порядке добавления)",
    "api.library.upload_into_folder.summary": (
        "Загрузить файлы в папку (документы индексируются, прочие хранятся как есть)"
    ),
    "api.library.add_item.summary": "Положить в папку загруженный документ (document_id) или файл библиотеки (file_id)",
    "api.library.remove_item.summary": "Убрать файл из папки (удаляется, если больше нигде не нужен)",
    "api.library.get_file.summary": "Файл библиотеки и папки, в которых он лежит",
    "api.library.download_file.summary": "Скачать файл по свежей подписанной ссылке (307)",
    "api.library.attach_to_chat.summary": "Прикрепить документ из библиотеки к чату",
    "api.library.attach_to_message.summary": "Прикрепить файл к сообщению",
    "api.library.chat_attachments.summary": "Файлы, прикреплённые к сообщениям чата",
    "api.messages.list_messages.summary": "Сообщения чата (старые сверху) с изображениями и найденными блоками",
    "api.messages.post_question.summary": "Задать вопрос: ответ придёт в потоке событий чата",
    "api.messages.question.description": "вопрос по-русски",
    "api.messages.document_ids.description": "документы (по умолчанию — документы чата)",
    "api.pages.page_png.summary": "Страница документа (PNG) с выделенными блоками",
    "api.pages.page_png.box.description": "x1,y1,x2,y2 в долях страницы (можно несколько)",
    "api.pages.page_png.chat_id.description": "выделить найденные блоки этого чата",
    "api.pages.page_png.message_id.description": "…только этого сообщения",
    "api.pages.page_png.block_id.description": "выделить эти блоки документа",
    "api.search.list_results.summary": "Найденные блоки чата (или одного сообщения)",
    "api.stats.get_stats.summary": "Статистика использования: вопросы, токены, время ответа, по дням",
    "api.opt.day.description": "ГГГГ-ММ-ДД, включительно",
    "api.status.status.summary": "Состояние: в сети / нет связи, ожидающие синхронизации записи, лимиты",
    "api.upload.too_many_files": "больше {count} файлов за раз",
    "api.upload.no_boundary": "нет boundary в Content-Type",
    "api.upload.too_large.description": "файл больше MAX_FILE_SIZE_MB",
    "api.library.item_ref_required": "укажите document_id или file_id",
    "api.bad_request.whole": "запрос",
}
