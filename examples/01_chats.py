"""Chats: create, read, list, archive (the original integration's "Работа с чатами").

    python examples/01_chats.py        # uses DATA_DIR (SQLite) or DATABASE_URL from .env
"""

import asyncio

from aizoomdoc.supabase_client import supabase_client


async def main() -> None:
    # Создать новый чат
    chat_id = await supabase_client.create_chat(
        title="Анализ документа XYZ",
        user_id="user_123",
        description="Поиск информации о вентиляции",
    )

    # Получить информацию о чате
    chat = await supabase_client.get_chat(chat_id)
    print(chat["title"])  # "Анализ документа XYZ"

    # Получить список чатов пользователя
    chats = await supabase_client.get_chats("user_123", limit=10)
    for chat in chats:
        print(f"- {chat['title']} ({chat['created_at']})")

    # Архивировать чат
    await supabase_client.archive_chat(chat_id)
    active = await supabase_client.get_chats("user_123")
    print("Архивный чат среди активных:", any(c["id"] == chat_id for c in active))  # False
    await supabase_client.close()


if __name__ == "__main__":
    asyncio.run(main())
