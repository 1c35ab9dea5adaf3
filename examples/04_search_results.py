"""Search results: store hits (block, page, coordinates) and read them back ("Сохранение результатов поиска").

    python examples/04_search_results.py
"""

import asyncio

from aizoomdoc.supabase_client import supabase_client


async def main() -> None:
    chat_id = await supabase_client.create_chat(title="Поиск", user_id="user_123")
    message_id = await supabase_client.add_message(chat_id, "user", "Какая толщина утеплителя кровли П-1?")

    # Добавить результат поиска
    result_id = await supabase_client.add_search_result(
        chat_id=chat_id,
        message_id=message_id,
        block_id="block_123",
        page_number=5,
        block_text="Система вентиляции состоит из...",
        coords_norm=[0.1, 0.2, 0.8, 0.5],
        coords_px=[100, 200, 800, 500],
    )
    print("Результат:", result_id)

    # Много результатов одним запросом
    await supabase_client.add_search_results_bulk([
        {"chat_id": chat_id, "message_id": message_id, "block_id": f"block_{i}", "page_number": i,
         "block_text": f"Кровля П-1: утеплитель {100 + i * 50} мм", "coords_norm": [0.1, 0.1, 0.5, 0.2],
         "coords_px": [10, 10, 50, 20], "score": 1.0 / i}
        for i in range(1, 4)
    ])

    # Получить все результаты поиска для чата
    search_results = await supabase_client.get_search_results(chat_id)
    for result in search_results:
        print(f"Page {result['page_number']}: {result['block_text'][:50]}...")

    # История чата целиком: сообщения с картинками и результатами поиска
    history = await supabase_client.get_chat_history(chat_id)
    print("Сообщений:", len(history["messages"]), "результатов:", len(history["messages"][0]["search_results"]))
    await supabase_client.close()


if __name__ == "__main__":
    asyncio.run(main())
