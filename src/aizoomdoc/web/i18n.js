// Every string the web UI shows, in Russian, in one place. t("key", {param: value}).

export const STRINGS = {
  "app.title": "AIZoomDoc",
  "app.tagline": "Вопросы к чертежам",

  "status.online": "В сети",
  "status.offline": "Нет связи",
  "status.unknown": "Проверка связи…",
  "status.pending": "ожидает синхронизации: {count}",
  "status.llm_offline": "языковая модель не подключена: ответы собираются из найденных фрагментов",

  "chats.new": "Новый чат",
  "chats.filter": "Фильтр по названию",
  "chats.tab.active": "Активные",
  "chats.tab.archived": "Архив",
  "chats.tab.all": "Все",
  "chats.empty": "Чатов пока нет — нажмите «Новый чат».",
  "chats.back": "← Чаты",
  "chats.empty_filter": "Ничего не найдено.",
  "chats.archived_mark": "в архиве",

  "chat.none": "Выберите чат в списке или создайте новый.",

  "welcome.title": "Вопросы к комплекту чертежей",
  "welcome.lead": "AIZoomDoc ищет ответ в PDF-чертежах и показывает увеличенные фрагменты листов со ссылками на страницы и блоки.",
  "welcome.step1": "Создайте чат (кнопка «Новый чат» или ниже).",
  "welcome.step2": "Прикрепите документ: PDF комплекта, изображение листа или OCR-пакет.",
  "welcome.step3": "Задайте вопрос обычными словами — ответ придёт со ссылками на листы.",
  "welcome.start": "Создать чат",
  "chat.rename": "Переименовать",
  "chat.rename_prompt": "Новое название чата:",
  "chat.archive": "В архив",
  "chat.unarchive": "Вернуть из архива",
  "chat.delete": "Удалить",
  "chat.delete_confirm": "Удалить чат «{title}» со всеми сообщениями и изображениями?",
  "chat.documents": "Документы:",
  "chat.no_documents": "нет — прикрепите PDF или OCR-пакет",
  "chat.attach": "Прикрепить документ",
  "chat.detach": "Открепить",
  "chat.empty": "Задайте первый вопрос по прикреплённым документам.",
  "chat.empty_no_documents": "Прикрепите документ кнопкой «Прикрепить документ» — затем задайте вопрос.",
  "chat.examples": "Например:",
  "chat.example1": "Найди всё вентиляционное оборудование",
  "chat.example2": "Какая толщина утеплителя кровли П-1?",
  "chat.pick_document": "Добавить загруженный документ…",
  "chat.not_found": "Чат не найден (возможно, удалён).",

  "composer.placeholder": "Вопрос по документам, например: «Какая толщина утеплителя кровли П-1?»",
  "composer.send": "Спросить",
  "composer.need_documents": "Сначала прикрепите документ к чату.",

  "upload.uploading": "Загрузка «{name}»: {percent}%",
  "upload.processing": "«{name}»: {stage}",
  "upload.done": "Документ «{title}» готов: страниц {pages}, блоков {blocks}.",
  "docstatus.ocr": "OCR: {done} из {total} стр.",
  "docstatus.unreadable": "не прочитаны стр. {pages}",
  "upload.too_large": "Файл «{name}» больше {limit} МБ — такой файл не принимается.",
  "upload.failed": "Не удалось загрузить «{name}»: {error}",

  "msg.you": "Вы",
  "msg.assistant": "AIZoomDoc",
  "msg.error": "Ошибка",
  "msg.working": "Работаю…",
  "msg.offline_model": "ответ без языковой модели",
  "msg.citations": "Источники:",
  "msg.citation": "стр. {page}, блок {block}",
  "msg.images": "Фрагменты чертежей:",
  "msg.image_alt": "Фрагмент: {label}",
  "msg.hits": "Найдено блоков: {count}",
  "msg.tool": "Модель обращается к документу",
  "tool.zoom": "Увеличение фрагмента {image}",
  "tool.request_images": "Модель запрашивает изображения",
  "tool.search": "Дополнительный поиск: «{query}»",

  "stage.question": "Вопрос принят",
  "stage.documents": "Документы",
  "stage.chat": "Чат",
  "stage.attachments": "Вложения",
  "stage.search": "Поиск по блокам",
  "stage.viewports": "Подготовка фрагментов",
  "stage.llm": "Ответ модели",
  "stage.save": "Сохранение",

  "page.title": "Стр. {page} — {document}",
  "page.loading": "Загрузка страницы…",
  "page.failed": "Не удалось показать страницу.",
  "viewer.close": "Закрыть",
  "viewer.open_new": "Открыть в новой вкладке",
  "viewer.fit": "Вся страница",
  "viewer.zoom": "Крупно",

  "login.title": "Вход",
  "login.hint": "Вставьте JWT Supabase или API-токен (aizoomdoc token create ПОЛЬЗОВАТЕЛЬ).",
  "login.token": "Токен",
  "login.submit": "Войти",
  "login.logout": "Выйти",
  "login.user": "Пользователь: {user}",

  "error.network": "Сервер недоступен. Проверьте соединение.",
  "error.generic": "Ошибка: {message}",
  "error.stream": "Поток событий прервался, переподключаюсь…",
};

export function t(key, params = {}) {
  const template = STRINGS[key];
  if (template === undefined) return key;
  return template.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}
