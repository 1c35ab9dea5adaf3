"""Images: store a viewport in file storage and record it with a message ("Работа с изображениями").

    python examples/03_images.py       # local folder under DATA_DIR, or S3 when USE_S3_STORAGE=true
"""

import asyncio
import tempfile
from pathlib import Path

from aizoomdoc.s3_storage import s3_storage
from aizoomdoc.supabase_client import supabase_client

# A tiny valid PNG (1×1 pixel) standing in for a rendered viewport.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


async def main() -> None:
    chat_id = await supabase_client.create_chat(title="Изображения", user_id="user_123")
    message_id = await supabase_client.add_message(chat_id, "assistant", "Вот фрагмент листа 5")

    # Загрузить картинку в хранилище
    local_image = Path(tempfile.mkdtemp()) / "viewport_step_1.png"
    local_image.write_bytes(PNG_1X1)
    s3_path = s3_storage.generate_s3_path(chat_id=chat_id, file_type="viewport", filename="viewport_step_1.png")
    s3_url = await s3_storage.upload_file(
        file_path=local_image,
        s3_key=s3_path,
        content_type="image/png",
        metadata={"description": "First zoom viewport"},
    )

    # Добавить картинку к сообщению в БД
    image_id = await supabase_client.add_image_to_message(
        chat_id=chat_id,
        message_id=message_id,
        image_name="viewport_step_1.png",
        s3_path=s3_path,
        s3_url=s3_url,
        image_type="viewport",
        description="First zoom viewport",
        width=1,
        height=1,
        file_size=len(PNG_1X1),
        page_number=5,
        coords_norm=[0.1, 0.2, 0.8, 0.5],
    )
    print("Изображение:", image_id)

    # Получить все картинки сообщения
    images = await supabase_client.get_message_images(message_id)
    for img in images:
        print(f"- {img['image_name']} ({img['image_type']})")
        print(f"  URL: {img['s3_url']}")

    # Подписанная ссылка (с ограничением времени жизни)
    print("Скачать:", s3_storage.get_signed_url(s3_key=s3_path, expires_in=3600))
    await s3_storage.aclose()
    await supabase_client.close()


if __name__ == "__main__":
    asyncio.run(main())
