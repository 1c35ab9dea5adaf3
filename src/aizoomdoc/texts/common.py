"""User-facing texts (Russian): shared across the application."""

TEXTS: dict[str, str] = {
    "error.unexpected": "Непредвиденная ошибка: {detail}. Подробности в журнале (LOG_LEVEL=DEBUG).",
    "error.prefix": "Ошибка",
    "config.invalid": "Неверная настройка {name}: {detail}. Проверьте .env или переменные окружения.",
    "config.detail.number": "ожидается число, получено «{value}»",
    "config.detail.integer": "ожидается целое число, получено «{value}»",
    "config.detail.bool": "ожидается true или false, получено «{value}»",
    "config.detail.ge": "должно быть не меньше {limit}, получено «{value}»",
    "config.detail.gt": "должно быть больше {limit}, получено «{value}»",
    "config.detail.le": "должно быть не больше {limit}, получено «{value}»",
    "config.detail.lt": "должно быть меньше {limit}, получено «{value}»",
    "config.detail.choice": "допустимые значения: {expected}; получено «{value}»",
    "os.enoent": "нет такого файла или папки",
    "os.eacces": "нет прав доступа",
    "os.enospc": "нет свободного места на диске",
    "os.erofs": "файловая система только для чтения",
    "os.enotdir": "часть пути — не папка",
    "os.eisdir": "это папка, а не файл",
    "ok": "готово",
    "common.page": "стр. {page}",
}
