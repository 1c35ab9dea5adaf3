"""Images the user attaches to a question: checked before anything is stored (an unreadable one
fails the question cleanly), then steps 4–6 — uploaded and recorded on the user message."""

from __future__ import annotations

import io
import mimetypes
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from aizoomdoc.errors import InvalidInputError, describe_os_error
from aizoomdoc.llm.context import ViewImage
from aizoomdoc.pipeline.ask.records import image_row
from aizoomdoc.pipeline.ask.turn import Emit, Turn
from aizoomdoc.pipeline.events import ImageEvent, ImageInfo, StageEvent
from aizoomdoc.store.files import FileStorage
from aizoomdoc.store.protocol import ChatStoreProtocol
from aizoomdoc.texts import t


@dataclass
class Attachment:
    """An image the user attaches to a question (a crop, a photo of a sheet)."""

    name: str
    data: bytes
    content_type: str | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Attachment:
        p = Path(path).expanduser()
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise InvalidInputError("ask.error.attachment", name=p.name or str(p),
                                    detail=describe_os_error(exc)) from None
        return cls(p.name, data, mimetypes.guess_type(p.name)[0])


#: A checked attachment: (attachment, width, height, mime type).
Upload = tuple[Attachment, int, int, str]


def check_attachment(att: Attachment) -> Upload:
    """``att`` with its size and type; :class:`InvalidInputError` when it is not an image."""
    try:
        with Image.open(io.BytesIO(att.data)) as img:
            w, h = img.size
            fmt = (img.format or "PNG").upper()
    except Exception:  # noqa: BLE001 - PIL raises many kinds
        raise InvalidInputError("ask.error.attachment_image", name=att.name) from None
    mime = att.content_type or Image.MIME.get(fmt, "image/png")
    return att, w, h, mime


async def store_attachments(turn: Turn, uploads: list[Upload], files: FileStorage,
                            store: ChatStoreProtocol, emit: Emit) -> list[ViewImage]:
    """Steps 4–6: upload and record ``uploads`` on the user message; the images for the model."""
    upload_images: list[ViewImage] = []
    if not uploads:
        return upload_images
    turn.stage = "attachments"
    await emit(StageEvent("attachments", "start", t("ask.stage.attachments")))
    t0 = time.perf_counter()
    rows = []
    for n, (att, w, h, mime) in enumerate(uploads, 1):
        label = f"u{n}"
        key = files.generate_s3_path(turn.chat_id, "user_upload", att.name)
        url = await files.upload_bytes(att.data, key, content_type=mime)
        info = ImageInfo(id=str(uuid.uuid4()), image_type="user_upload", s3_path=key, s3_url=url,
                         width=w, height=h, page_number=None, message_id=turn.user_message_id,
                         label=label, description=f"{label}: {att.name}")
        rows.append(image_row(turn, info, turn.user_message_id, len(att.data)))
        upload_images.append(ViewImage(label, att.data, mime, t("ask.caption.attachment", name=att.name)))
        turn.images.append(info)
    await store.add_images_bulk(rows)
    for info in turn.images:
        await emit(ImageEvent(info))
    turn.timings["attachments"] = time.perf_counter() - t0
    await emit(StageEvent("attachments", "done", t("ask.stage.attachments"), {"count": len(rows)}))
    return upload_images
