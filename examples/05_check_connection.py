"""Connection check, as the original integration's callers wrote it ("Проверка подключения").

    python examples/05_check_connection.py
"""

from aizoomdoc.s3_storage import s3_storage
from aizoomdoc.supabase_client import supabase_client

# Проверить подключение к БД
if supabase_client.is_connected():
    print("✅ БД подключена")
else:
    print("❌ БД недоступна")

# Проверить подключение к хранилищу файлов
if s3_storage.is_connected():
    print("✅ S3 подключен")
else:
    print("❌ S3 недоступен")
