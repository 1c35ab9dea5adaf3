"""Messages: a user question and an assistant answer, read back in order ("Добавление сообщений").

    python examples/02_messages.py
"""

import asyncio

from aizoomdoc.supabase_client import supabase_client


async def main() -> None:
    chat_id = await supabase_client.create_chat(title="Вентиляция", user_id="user_123")

    # Добавить сообщение пользователя
    message_id = await supabase_client.add_message(
        chat_id=chat_id,
        role="user",
        content="Найди информацию о системах вентиляции",
        message_type="text",
    )

    # Добавить ответ LLM
    assistant_message_id = await supabase_client.add_message(
        chat_id=chat_id,
        role="assistant",
        content="Обнаружил информацию о вентиляции на странице 5...",
        message_type="text",
        model="offline",
        metadata={"citations": [{"page": 5, "block_id": "block_123"}]},
    )
    print("Сообщения:", message_id, assistant_message_id)

    # Получить все сообщения чата
    messages = await supabase_client.get_chat_messages(chat_id)
    for msg in messages:
        print(f"[{msg['role']}] {msg['content']}")
    await supabase_client.close()


if __name__ == "__main__":
    asyncio.run(main())
