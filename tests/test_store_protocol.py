"""Every chat store and file storage implements the whole store protocol — the plain ones too — so
no caller has to probe them with ``hasattr``/``getattr`` (``for_user``, ``is_offline``,
``offline_state``). What the UI's badge shows on SQLite follows from it: no journal, nothing pending.
"""

from __future__ import annotations

from aizoomdoc.config import Settings
from aizoomdoc.store.chats import ChatStore
from aizoomdoc.store.files import build_file_storage
from aizoomdoc.store.journal import Journal
from aizoomdoc.store.protocol import ChatStoreProtocol
from aizoomdoc.store.resilient import ResilientChatStore


async def test_every_chat_store_implements_the_whole_protocol(settings: Settings) -> None:
    plain = ChatStore.from_settings(settings)
    resilient = ResilientChatStore(ChatStore.from_settings(settings), Journal.for_data_dir(settings.data_dir),
                                   settings=settings)
    try:
        for store in (plain, resilient, plain.for_user("alice"), resilient.for_user("alice")):
            assert isinstance(store, ChatStoreProtocol), type(store).__name__
        # The plain store has no offline journal: never offline, no state to report.
        assert plain.is_offline is False and plain.for_user("alice").offline_state() is None
        # The resilient one reports its journal, per user view as for the whole store.
        state = resilient.for_user("alice").offline_state()
        assert state is not None and state["pending"] == 0 and state["database"] in ("online", "offline")
        assert resilient.is_offline is (state["database"] == "offline")
        # A user view acts as that user.
        chat_id = await plain.for_user("alice").create_chat("Чат", "alice")
        assert (await plain.get_chat(chat_id) or {}).get("user_id") == "alice"
    finally:
        await resilient.close()
        await plain.close()


def test_a_file_storage_without_a_journal_is_never_offline(settings: Settings) -> None:
    files = build_file_storage(settings)
    assert files.is_offline is False and files.offline_state() is None
