"""The one ``MetaData`` Alembic compares against: every model module is imported here.

Other table modules register themselves by being imported below (e.g. ``document_models`` for
``documents``/``document_blocks``); their tables share :data:`metadata` through ``models.Base``.
"""

from __future__ import annotations

from aizoomdoc.store import (
    document_models,  # noqa: F401  (registers documents, document_blocks)
    events,  # noqa: F401  (registers chat_events, api_tokens)
    library_models,  # noqa: F401  (folders, storage_files, folder_items, message_attachments)
    models,  # noqa: F401  (registers chats, chat_messages, chat_images, search_results)
    usage_models,  # noqa: F401  (registers usage_questions, usage_documents)
)
from aizoomdoc.store.models import Base

metadata = Base.metadata

__all__ = ["metadata"]
