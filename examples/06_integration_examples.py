"""The original integration's examples module (INTEGRATION_EXAMPLES.py), end to end.

Written from the original's public behaviour, with only the import path changed
(``from src.supabase_client`` → ``from aizoomdoc.supabase_client``): a chat is created for a
document and the document uploaded, the question and the answers are stored as messages, search
hits as search results, zoomed viewports of the drawing as images; the history is read back with
its images and exported to Markdown; the file library keeps the document in a folder and attaches
it to the question; finally the chat is deleted with every file it had in storage.

    python examples/06_integration_examples.py [drawing_set.pdf]

SQLite and the local folder under DATA_DIR by default; PostgreSQL and S3 with DATABASE_URL and
USE_S3_STORAGE=true (see env.example).
"""

import asyncio
import logging
import os
import sys
import tempfile
from pathlib import Path

import pymupdf
from PIL import Image

from aizoomdoc.s3_storage import s3_storage
from aizoomdoc.supabase_client import supabase_client

logger = logging.getLogger(__name__)


# ============================================
# ПРИМЕР 1: Сохранение чата при загрузке документа
# ============================================
async def process_document_with_chat(file_path: str, user_id: str, query: str) -> str:
    """Создать чат для документа, сохранить вопрос и загрузить документ в хранилище."""
    chat_id = await supabase_client.create_chat(
        title=f"Анализ {Path(file_path).name}",
        user_id=user_id,
        document_path=file_path,
        description=f"Начальный запрос: {query}",
    )

    await supabase_client.add_message(chat_id=chat_id, role="user", content=query, message_type="text")

    if supabase_client.is_connected() and s3_storage.is_connected():
        s3_doc_path = s3_storage.generate_s3_path(chat_id=chat_id, file_type="document",
                                                  filename=Path(file_path).name)
        s3_url = await s3_storage.upload_file(file_path=file_path, s3_key=s3_doc_path,
                                              content_type="application/pdf")
        if s3_url:
            await supabase_client.update_chat(chat_id=chat_id, document_path=s3_doc_path)
    return chat_id


# ============================================
# ПРИМЕР 2: Сохранение viewport картинок
# ============================================
async def save_viewport_image(chat_id: str, message_id: str, image_path: str, step: int,
                              image_description: str) -> bool:
    """Сохранить viewport картинку в хранилище и в БД."""
    try:
        with Image.open(image_path) as img:
            width, height = img.size
        file_size = os.path.getsize(image_path)
    except OSError as e:
        logger.error("Ошибка открытия изображения: %s", e)
        return False

    if s3_storage.is_connected():
        filename = f"viewport_step_{step}.png"
        s3_path = s3_storage.generate_s3_path(chat_id=chat_id, file_type="viewport", filename=filename)
        s3_url = await s3_storage.upload_file(
            file_path=image_path, s3_key=s3_path, content_type="image/png",
            metadata={"step": str(step), "description": image_description},
        )
        if supabase_client.is_connected():
            image_id = await supabase_client.add_image_to_message(
                chat_id=chat_id, message_id=message_id, image_name=filename, s3_path=s3_path, s3_url=s3_url,
                image_type="viewport", description=image_description, width=width, height=height,
                file_size=file_size,
            )
            return image_id is not None
    return True


# ============================================
# ПРИМЕР 3: Поиск по документу, результаты и увеличенные фрагменты
# ============================================
def find_blocks(file_path: str, words: list[str]) -> list[dict]:
    """Text blocks of the PDF that mention any of ``words`` (page, text, coordinates)."""
    hits = []
    with pymupdf.open(file_path) as pdf:
        for page in pdf:
            w, h = page.rect.width, page.rect.height
            for n, (x0, y0, x1, y1, text, *_rest) in enumerate(page.get_text("blocks")):
                if any(word in text.lower() for word in words):
                    hits.append({"block_id": f"p{page.number + 1}_b{n}", "page_number": page.number + 1,
                                 "block_text": " ".join(text.split()),
                                 "coords_norm": [x0 / w, y0 / h, x1 / w, y1 / h],
                                 "coords_px": [round(x0), round(y0), round(x1), round(y1)]})
    return hits


def render_viewport(file_path: str, hit: dict, out: Path) -> Path:
    """A zoomed crop of the page around a hit, as the agent shows it to the model."""
    with pymupdf.open(file_path) as pdf:
        page = pdf[hit["page_number"] - 1]
        x0, y0, x1, y1 = hit["coords_px"]
        clip = pymupdf.Rect(x0 - 40, y0 - 40, x1 + 40, y1 + 40) & page.rect
        page.get_pixmap(dpi=200, clip=clip).save(out)
    return out


async def run_agent_loop_with_chat(chat_id: str, file_path: str, user_query: str, workdir: Path) -> str:
    """Найти блоки, сохранить результаты поиска и фрагменты, сохранить ответ."""
    messages = await supabase_client.get_chat_messages(chat_id)
    question_id = messages[-1]["id"]
    hits = find_blocks(file_path, ["вентиляц", "вентилятор"])[:3]
    for hit in hits:
        await supabase_client.add_search_result(chat_id=chat_id, message_id=question_id, **hit)

    for step, hit in enumerate(hits, start=1):
        zoom_message_id = await supabase_client.add_message(
            chat_id=chat_id, role="assistant", content=f"Zoom шаг {step}: стр. {hit['page_number']}",
            message_type="text")
        image = render_viewport(file_path, hit, workdir / f"zoom_step_{step}.png")
        await save_viewport_image(chat_id, zoom_message_id, str(image), step, hit["block_text"][:80])

    pages = ", ".join(str(h["page_number"]) for h in hits)
    answer = f"Обнаружил информацию о вентиляции на страницах {pages}." if hits else "Ничего не найдено."
    await supabase_client.add_message(chat_id=chat_id, role="assistant", content=answer, message_type="text")
    return answer


# ============================================
# ПРИМЕР 4: Получить историю чата
# ============================================
async def get_chat_history_with_images(chat_id: str) -> dict:
    """Получить полную историю чата с картинками."""
    chat = await supabase_client.get_chat(chat_id)
    messages = await supabase_client.get_chat_messages(chat_id)
    messages_with_images = []
    for msg in messages:
        images = await supabase_client.get_message_images(msg["id"])
        messages_with_images.append({"id": msg["id"], "role": msg["role"], "content": msg["content"],
                                     "created_at": msg["created_at"], "images": images})
    return {"chat": chat, "messages": messages_with_images}


# ============================================
# ПРИМЕР 5: Экспорт чата
# ============================================
async def export_chat_as_markdown(chat_id: str) -> str:
    """Экспортировать чат в Markdown формат."""
    chat_data = await get_chat_history_with_images(chat_id)
    md = f"# {chat_data['chat']['title']}\n\n"
    md += f"**Создано**: {chat_data['chat']['created_at']}\n\n"
    if chat_data["chat"]["description"]:
        md += f"**Описание**: {chat_data['chat']['description']}\n\n"
    md += "---\n\n"
    for msg in chat_data["messages"]:
        role = "👤 User" if msg["role"] == "user" else "🤖 Assistant"
        md += f"## {role}\n\n{msg['content']}\n\n"
        if msg["images"]:
            md += "### Картинки:\n\n"
            for img in msg["images"]:
                if img["s3_url"]:
                    md += f"![{img['image_type']}]({img['s3_url']})\n\n"
        md += "---\n\n"
    return md


# ============================================
# ПРИМЕР 6: Библиотека файлов — папка проекта, документ в ней, вложение к вопросу
# ============================================
async def file_document_in_library(chat_id: str, user_id: str) -> dict:
    """Зарегистрировать загруженный документ, положить его в папку и прикрепить к вопросу."""
    chat = await supabase_client.get_chat(chat_id)
    project_id = await supabase_client.create_folder("Проект 133/23", user_id)
    section_id = await supabase_client.create_folder("Раздел ОВ", user_id, parent_id=project_id)
    file_id = await supabase_client.register_file(
        source_type="user_upload", filename=Path(chat["document_path"]).name, user_id=user_id,
        storage_path=chat["document_path"], mime_type="application/pdf",
        size_bytes=(await s3_storage.get_file_metadata(chat["document_path"]))["size"])
    link_id = await supabase_client.register_file(
        source_type="external_link", filename="СП 60.13330.2020", user_id=user_id,
        external_url="https://docs.cntd.ru/document/573697256")
    await supabase_client.add_file_to_folder(section_id, file_id)
    await supabase_client.add_file_to_folder(section_id, link_id)
    question = (await supabase_client.get_chat_messages(chat_id))[0]
    await supabase_client.add_attachment_to_message(question["id"], file_id)
    return {"folders": await supabase_client.get_folders(user_id),
            "files": await supabase_client.get_folder_files(section_id),
            "attachments": await supabase_client.get_message_attachments(question["id"])}


# ============================================
# ПРИМЕР 7: Удалить чат с очисткой хранилища
# ============================================
async def delete_chat_completely(chat_id: str) -> bool:
    """Удалить чат из БД и все его файлы из хранилища."""
    chat = await supabase_client.get_chat(chat_id)
    if not chat:
        logger.error("Чат не найден: %s", chat_id)
        return False
    if s3_storage.is_connected():
        deleted = await s3_storage.delete_folder(f"chats/{chat_id}/")
        logger.info("Удалено %d файлов из хранилища", deleted)
    # Сообщения, картинки, результаты поиска и вложения удаляются каскадно.
    return await supabase_client.delete_chat(chat_id)


async def main(file_path: str | None = None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="aizoomdoc-examples-"))
    if file_path is None:  # the synthetic drawing set shipped with the package
        from aizoomdoc.sample import write_drawing_set

        file_path = str(workdir / "133_23-GK-OV1.pdf")
        write_drawing_set(Path(file_path))
    query = "Найди информацию о вентиляции"

    chat_id = await process_document_with_chat(file_path=file_path, user_id="user_123", query=query)
    print(f"✅ Чат создан: {chat_id}")
    answer = await run_agent_loop_with_chat(chat_id, file_path, query, workdir)
    print(f"Ответ: {answer}")

    library = await file_document_in_library(chat_id, "user_123")
    print(f"Папок: {len(library['folders'])}, файлов в разделе: {len(library['files'])}, "
          f"вложений к вопросу: {len(library['attachments'])}")

    history = await get_chat_history_with_images(chat_id)
    images = sum(len(m["images"]) for m in history["messages"])
    print(f"Сообщений: {len(history['messages'])}, картинок: {images}")

    md = await export_chat_as_markdown(chat_id)
    print(f"Markdown:\n{md[:200]}...")

    files_before = len(await s3_storage.list_files(f"chats/{chat_id}/"))
    print(f"Файлов чата в хранилище: {files_before}")
    await delete_chat_completely(chat_id)
    print(f"После удаления: {len(await s3_storage.list_files(f'chats/{chat_id}/'))} файлов, "
          f"чат в БД: {await supabase_client.get_chat(chat_id)}")
    await s3_storage.aclose()
    await supabase_client.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
