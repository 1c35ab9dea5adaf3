"""The interface of a chat store, so wrappers (e.g. an offline-resilient store) can stand in for it.

Every store implements all of it, the plain one too (``for_user``, ``is_offline``,
``offline_state``), so callers never probe a store with ``hasattr``/``getattr``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ChatStoreProtocol(Protocol):
    """What :class:`aizoomdoc.store.chats.ChatStore` offers. Rows are plain dicts (ISO timestamps,
    JSON decoded); ids are uuid4 strings; failures raise :class:`aizoomdoc.errors.AizoomdocError`."""

    # --- the caller and the link -------------------------------------------------------------
    def for_user(self, user_id: str) -> ChatStoreProtocol:
        """The same store acting as ``user_id`` (RLS on PostgreSQL)."""
        ...

    @property
    def is_offline(self) -> bool:
        """Whether writes go to the local journal now (the database unreachable); never for a
        store without one."""
        ...

    def offline_state(self) -> dict[str, Any] | None:
        """``{"database": "online"|"offline", "since", "last_error", "pending", "pending_files",
        "conflicts", "notices"}`` for a store with an offline journal; None for one without."""
        ...

    # --- chats ----------------------------------------------------------------------------
    async def create_chat(self, title: str, user_id: str, description: str | None = None,
                          document_path: str | None = None, metadata: Any = None, *,
                          id: str | None = None) -> str: ...

    async def get_chat(self, chat_id: str) -> dict[str, Any] | None: ...

    async def get_chats(self, user_id: str, limit: int = 50,
                        include_archived: bool = False) -> list[dict[str, Any]]: ...

    async def update_chat(self, chat_id: str, **fields: Any) -> dict[str, Any]: ...

    async def archive_chat(self, chat_id: str) -> bool: ...

    async def delete_chat(self, chat_id: str) -> bool: ...

    # --- messages ---------------------------------------------------------------------------
    async def add_message(self, chat_id: str, role: str, content: str, message_type: str = "text",
                          model: str | None = None, metadata: Any = None, *,
                          id: str | None = None) -> str: ...

    async def add_messages_bulk(self, chat_id: str,
                                messages: Sequence[Mapping[str, Any]]) -> list[str]: ...

    async def get_chat_messages(self, chat_id: str, limit: int | None = None) -> list[dict[str, Any]]: ...

    # --- images -----------------------------------------------------------------------------
    async def add_image_to_message(self, chat_id: str, message_id: str, image_name: str, s3_path: str,
                                   s3_url: str | None, image_type: str = "viewport",
                                   description: str | None = None, width: int | None = None,
                                   height: int | None = None, file_size: int | None = None,
                                   page_number: int | None = None, coords_norm: Any = None, *,
                                   id: str | None = None, sync_state: str = "synced") -> str: ...

    async def add_images_bulk(self, rows: Iterable[Mapping[str, Any]]) -> list[str]: ...

    async def get_message_images(self, message_id: str) -> list[dict[str, Any]]: ...

    async def get_chat_images(self, chat_id: str) -> list[dict[str, Any]]: ...

    # --- search results -----------------------------------------------------------------------
    async def add_search_result(self, chat_id: str, message_id: str, block_id: str, page_number: int | None,
                                block_text: str, coords_norm: Any, coords_px: Any,
                                document_id: str | None = None, score: float | None = None, *,
                                id: str | None = None) -> str: ...

    async def add_search_results_bulk(self, rows: Iterable[Mapping[str, Any]]) -> list[str]: ...

    async def get_search_results(self, chat_id: str, message_id: str | None = None) -> list[dict[str, Any]]: ...

    # --- whole chats --------------------------------------------------------------------------
    async def get_chat_history(self, chat_id: str, limit: int | None = None) -> dict[str, Any]: ...

    # --- health -------------------------------------------------------------------------------
    def is_connected(self) -> bool: ...

    async def close(self) -> None: ...
