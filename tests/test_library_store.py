"""The library store and the seed facade's library methods, on SQLite and on a real PostgreSQL
(one suite, two backends); Row Level Security of the four library tables on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import inspect, text

from aizoomdoc.config import Settings
from aizoomdoc.errors import AizoomdocError, ForbiddenError, InvalidInputError, NotFoundError
from aizoomdoc.store import ChatStore, Database, migrate
from aizoomdoc.store.documents import DocumentStore
from aizoomdoc.store.library import MAX_DEPTH, LibraryStore
from aizoomdoc.store.library_models import LIBRARY_TABLES
from aizoomdoc.supabase_client import SupabaseClient

# PostgreSQL: the store fixtures run on SQLite and PostgreSQL.
pytestmark = pytest.mark.postgres

SHA = "ab" * 32


@pytest.fixture(scope="module")
async def pg_db(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    db = Database(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("libpg"), database_url=pg_url))
    await migrate.upgrade(db, "head")
    yield db
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, settings: Settings, pg_db: Database) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(settings)
        await migrate.ensure_schema(database)
        yield database
        await database.dispose()
    else:
        yield pg_db


@pytest.fixture()
def lib(db: Database) -> LibraryStore:
    return LibraryStore(db)


@pytest.fixture()
def chats(db: Database) -> ChatStore:
    return ChatStore(db)


@pytest.fixture()
def user() -> str:
    return f"user_{uuid.uuid4().hex[:8]}"


async def _document(db: Database, user: str, sha: str | None = None) -> str:
    doc_id = str(uuid.uuid4())
    sha = sha or uuid.uuid4().hex * 2
    await DocumentStore(db, user_id=user).add(
        {"id": doc_id, "sha256": sha, "title": "Комплект ОВ", "filename": "ov.pdf", "source_format": "pdf",
         "storage_key": f"documents/{doc_id}/ov.pdf"}, [])
    return doc_id


async def _count(db: Database, table: str, where: str = "1=1", **params: Any) -> int:
    return await db.run(lambda c: c.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar())


# --------------------------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------------------------
async def test_nested_folders_with_counts_and_sibling_names(lib: LibraryStore, user: str) -> None:
    project = await lib.create_folder("Проект 133/23", user)
    section = await lib.create_folder("Раздел  ОВ\n", user, project)
    other = await lib.create_folder("Раздел ОВ", user)  # the same name elsewhere is fine
    file_id = await lib.register_file("external_link", "СП 60", user, external_url="https://example.org/sp60")
    assert await lib.add_file_to_folder(section, file_id) is True
    assert await lib.add_file_to_folder(section, file_id) is True  # again: a no-op

    rows = {r["id"]: r for r in await lib.get_folders(user)}
    assert set(rows) == {project, section, other}
    assert rows[section]["name"] == "Раздел ОВ" and rows[section]["parent_id"] == project
    assert rows[section]["file_count"] == 1 and rows[project]["file_count"] == 0
    assert rows[project]["name"] == "Проект 133/23" and rows[project]["parent_id"] is None

    with pytest.raises(InvalidInputError) as exc:
        await lib.create_folder("раздел ов", user, project)
    assert "уже есть" in str(exc.value)
    with pytest.raises(InvalidInputError):
        await lib.rename_folder(other, "ПРОЕКТ 133/23")
    assert (await lib.rename_folder(other, "Архив"))["name"] == "Архив"
    assert await lib.get_folders(f"{user}_nobody") == []


async def test_folder_input_errors(lib: LibraryStore, user: str) -> None:
    with pytest.raises(InvalidInputError):
        await lib.create_folder("   ", user)
    with pytest.raises(InvalidInputError):
        await lib.create_folder("x" * 201, user)
    with pytest.raises(NotFoundError):
        await lib.create_folder("Раздел", user, str(uuid.uuid4()))
    with pytest.raises(InvalidInputError):
        await lib.create_folder("Раздел", user, "не-uuid")
    parent = None
    for level in range(MAX_DEPTH):
        parent = await lib.create_folder(f"Уровень {level}", user, parent)
    with pytest.raises(InvalidInputError) as exc:
        await lib.create_folder("Слишком глубоко", user, parent)
    assert str(MAX_DEPTH) in str(exc.value)
    # Another user's folder is no parent (it "does not exist" for them).
    with pytest.raises(NotFoundError):
        await lib.create_folder("Чужая", f"{user}_b", parent)


async def test_create_with_id_is_idempotent(lib: LibraryStore, user: str) -> None:
    fid = str(uuid.uuid4())
    assert await lib.create_folder("Проект", user, id=fid) == fid
    assert await lib.create_folder("Проект", user, id=fid) == fid
    assert len(await lib.get_folders(user)) == 1


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------
async def test_register_file_once_and_validates(lib: LibraryStore, chats: ChatStore, db: Database, user: str) -> None:
    a = await lib.register_file("user_upload", "ov.pdf", user, storage_path="library/x/ov.pdf",
                                mime_type="application/pdf", size_bytes=42, sha256=SHA.upper())
    # The same content, or the same stored object, is the same file.
    assert await lib.register_file("user_upload", "копия.pdf", user, storage_path="library/y/copy.pdf",
                                   sha256=SHA) == a
    assert await lib.register_file("user_upload", "ov.pdf", user, storage_path="library/x/ov.pdf") == a
    row = await lib.get_file(a)
    assert (row["filename"], row["size_bytes"], row["sha256"], row["source_type"]) == ("ov.pdf", 42, SHA, "user_upload")
    # Another user registering the same content gets a file of their own.
    assert await lib.register_file("user_upload", "ov.pdf", f"{user}_b", storage_path="library/x/ov.pdf",
                                   sha256=SHA) != a

    chat_id = await chats.create_chat("Чат", user)
    key = f"chats/{chat_id}/images/viewport_step_1.png"
    gen = await lib.register_file("llm_generated", "viewport_step_1.png", user, storage_path=key)
    assert (await lib.get_file(gen))["chat_id"] == chat_id  # lives and dies with the chat

    doc = await _document(db, user)
    assert (await lib.get_file(await lib.register_file("user_upload", "ov.pdf", user, f"documents/{doc}/ov.pdf",
                                                       document_id=doc)))["document_id"] == doc

    bad: list[tuple[tuple[Any, ...], dict[str, Any], str]] = [
        (("scan", "a.pdf", user), {"storage_path": "a.pdf"}, "user_upload, llm_generated, external_link"),
        (("user_upload", "a.pdf", user), {}, "storage_path"),
        (("external_link", "СП", user), {}, "external_url"),
        (("external_link", "СП", user), {"external_url": "javascript:alert(1)"}, "http"),
        (("user_upload", "a.pdf", user), {"storage_path": "../etc/passwd"}, "Недопустимый ключ"),
        (("user_upload", "a.pdf", user), {"storage_path": "a.pdf", "sha256": "123"}, "SHA-256"),
        (("user_upload", "", user), {"storage_path": "a.pdf"}, "filename"),
        (("user_upload", "a.pdf", user), {"storage_path": "a.pdf", "size_bytes": -1}, "size_bytes"),
    ]
    for args, kwargs, says in bad:
        with pytest.raises(InvalidInputError) as exc:
            await lib.register_file(*args, **kwargs)
        assert says in str(exc.value), (args, kwargs, str(exc.value))
    with pytest.raises(NotFoundError):
        await lib.register_file("user_upload", "a.pdf", user, "documents/z/a.pdf", document_id=str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await lib.register_file("user_upload", "a.pdf", f"{user}_b", "documents/z/a.pdf", document_id=doc)
    with pytest.raises(NotFoundError):
        await lib.get_file(str(uuid.uuid4()))


async def test_files_in_folders(lib: LibraryStore, user: str) -> None:
    folder = await lib.create_folder("Раздел", user)
    first = await lib.register_file("external_link", "первый", user, external_url="https://example.org/1")
    second = await lib.register_file("user_upload", "второй.xlsx", user, storage_path="library/2/второй.xlsx")
    await lib.add_file_to_folder(folder, first)
    await lib.add_file_to_folder(folder, second)
    got = await lib.get_folder_files(folder)
    assert [f["id"] for f in got] == [first, second] and all(f["added_at"] for f in got)
    assert [f["id"] for f in await lib.get_file_folders(first)] == [folder]

    assert await lib.delete_file_from_folder(folder, first) is True
    with pytest.raises(NotFoundError) as exc:
        await lib.delete_file_from_folder(folder, first)
    assert "Раздел" in str(exc.value)
    assert [f["id"] for f in await lib.get_folder_files(folder)] == [second]
    assert (await lib.get_file(first))["id"] == first  # out of the folder, still registered

    theirs = await lib.register_file("external_link", "чужой", f"{user}_b", external_url="https://example.org/b")
    with pytest.raises(InvalidInputError) as exc:
        await lib.add_file_to_folder(folder, theirs)
    assert "разным пользователям" in str(exc.value)
    with pytest.raises(NotFoundError):
        await lib.add_file_to_folder(str(uuid.uuid4()), first)
    with pytest.raises(NotFoundError):
        await lib.get_folder_files(str(uuid.uuid4()))


async def test_attachments_and_what_a_deleted_chat_takes_along(lib: LibraryStore, chats: ChatStore, db: Database,
                                                                user: str) -> None:
    chat_id = await chats.create_chat("Вопрос по ОВ", user)
    question = await chats.add_message(chat_id, "user", "Какая вентиляция?")
    folder = await lib.create_folder("Раздел", user)
    doc_file = await lib.register_file("user_upload", "ov.pdf", user, "library/d/ov.pdf")
    viewport = await lib.register_file("llm_generated", "v.png", user, f"chats/{chat_id}/images/v.png")
    await lib.add_file_to_folder(folder, doc_file)
    await lib.add_file_to_folder(folder, viewport)
    assert await lib.add_attachment_to_message(question, doc_file) is True
    assert await lib.add_attachment_to_message(question, doc_file) is True  # again: a no-op
    got = await lib.get_message_attachments(question)
    assert [(f["id"], f["message_id"]) for f in got] == [(doc_file, question)]
    assert [f["id"] for f in await lib.get_chat_attachments(chat_id)] == [doc_file]

    with pytest.raises(NotFoundError):
        await lib.add_attachment_to_message(str(uuid.uuid4()), doc_file)
    with pytest.raises(NotFoundError):
        await lib.get_message_attachments(str(uuid.uuid4()))
    theirs = await lib.register_file("external_link", "чужой", f"{user}_b", external_url="https://example.org/b")
    with pytest.raises(InvalidInputError):
        await lib.add_attachment_to_message(question, theirs)

    await chats.delete_chat(chat_id)
    assert await _count(db, "message_attachments", "chat_id = :c", c=chat_id) == 0
    with pytest.raises(NotFoundError):  # the chat's own file went with it (and out of the folder)
        await lib.get_file(viewport)
    assert [f["id"] for f in await lib.get_folder_files(folder)] == [doc_file]


async def test_delete_folder_and_which_files_nothing_uses(lib: LibraryStore, chats: ChatStore, db: Database,
                                                          user: str) -> None:
    project = await lib.create_folder("Проект", user)
    section = await lib.create_folder("Раздел ОВ", user, project)
    deep = await lib.create_folder("Узлы", user, section)
    keep_box = await lib.create_folder("Архив", user)

    only_here = await lib.register_file("user_upload", "смета.xlsx", user, "library/1/смета.xlsx")
    also_in_archive = await lib.register_file("user_upload", "письмо.pdf", user, "library/2/письмо.pdf")
    attached = await lib.register_file("external_link", "СП", user, external_url="https://example.org/sp")
    used_doc, unused_doc = await _document(db, user), await _document(db, user)
    used_file = await lib.register_file("user_upload", "ov.pdf", user, f"documents/{used_doc}/ov.pdf",
                                        document_id=used_doc)
    unused_file = await lib.register_file("user_upload", "kr.pdf", user, f"documents/{unused_doc}/kr.pdf",
                                          document_id=unused_doc)
    chat_id = await chats.create_chat("Чат", user, metadata={"document_ids": [used_doc]})
    archived = await chats.create_chat("Старый чат", user, metadata={"document_ids": ["not-a-doc"]})
    await chats.archive_chat(archived)
    question = await chats.add_message(chat_id, "user", "Вопрос")
    await lib.add_attachment_to_message(question, attached)
    for folder, file_id in [(section, only_here), (deep, also_in_archive), (keep_box, also_in_archive),
                            (deep, attached), (section, used_file), (project, unused_file)]:
        await lib.add_file_to_folder(folder, file_id)

    result = await lib.delete_folder(project)
    assert set(result["folders"]) == {project, section, deep}
    assert set(result["file_ids"]) == {only_here, also_in_archive, attached, used_file, unused_file}
    assert [f["id"] for f in await lib.get_folders(user)] == [keep_box]
    assert await _count(db, "folder_items", "folder_id = :f", f=section) == 0

    unused = {f["id"] for f in await lib.unused_files(result["file_ids"])}
    assert unused == {only_here, unused_file}
    with pytest.raises(NotFoundError):
        await lib.delete_folder(project)


async def test_a_user_view_sees_only_its_own(lib: LibraryStore, chats: ChatStore, user: str) -> None:
    other = f"{user}_b"
    folder = await lib.create_folder("Проект А", user)
    file_id = await lib.register_file("external_link", "СП", user, external_url="https://example.org/sp")
    await lib.add_file_to_folder(folder, file_id)
    chat_id = await chats.create_chat("Чат А", user)
    question = await chats.add_message(chat_id, "user", "Вопрос")
    await lib.add_attachment_to_message(question, file_id)

    them = lib.for_user(other)
    assert await them.get_folders() == []
    for call in (lambda: them.get_folder(folder), lambda: them.get_folder_files(folder),
                 lambda: them.get_file(file_id), lambda: them.get_message_attachments(question),
                 lambda: them.get_chat_attachments(chat_id), lambda: them.delete_folder(folder),
                 lambda: them.rename_folder(folder, "Моё"), lambda: them.add_attachment_to_message(question, file_id)):
        with pytest.raises(NotFoundError):
            await call()
    with pytest.raises(InvalidInputError):
        await them.create_folder("Подмена", user)
    assert await them.delete_file(file_id) is False
    assert await them.unused_files([file_id]) == []
    mine = lib.for_user(user)
    assert [f["id"] for f in await mine.get_folders()] == [folder]
    assert [f["id"] for f in await mine.get_folder_files(folder)] == [file_id]


# --------------------------------------------------------------------------------------------
# The seed facade: the original names, arguments and return shapes; errors instead of None/False
# --------------------------------------------------------------------------------------------
async def test_facade_has_the_original_library(db: Database, user: str) -> None:
    client = SupabaseClient(ChatStore(db))
    folder_id = await client.create_folder("Проект", user)
    sub_id = await client.create_folder("Раздел", user, folder_id, "razdel")
    assert isinstance(folder_id, str) and isinstance(sub_id, str)
    folders = await client.get_folders(user)
    assert {f["name"]: f["parent_id"] for f in folders} == {"Проект": None, "Раздел": folder_id}
    assert {f["slug"] for f in folders} == {None, "razdel"}

    chat_id = await client.create_chat("Чат", user)
    message_id = await client.add_message(chat_id, "user", "Вопрос")
    file_id = await client.register_file("llm_generated", "v.png", user, f"chats/{chat_id}/images/v.png", None,
                                         "image/png", 1024)
    link_id = await client.register_file(source_type="external_link", filename="СП", user_id=user,
                                         external_url="https://example.org/sp")
    assert await client.add_file_to_folder(sub_id, file_id) is True
    assert await client.add_attachment_to_message(message_id, link_id) is True
    assert [f["id"] for f in await client.get_folder_files(sub_id)] == [file_id]
    assert [f["external_url"] for f in await client.get_message_attachments(message_id)] == ["https://example.org/sp"]
    assert await client.delete_file_from_folder(sub_id, file_id) is True
    assert await client.delete_folder(folder_id) is True
    assert await client.get_folders(user) == []
    assert (await client.library.get_file(file_id))["id"] == file_id  # files stay, as in the original

    for call in (lambda: client.create_folder("", user), lambda: client.register_file("bad", "x", user, "x"),
                 lambda: client.add_file_to_folder(str(uuid.uuid4()), file_id),
                 lambda: client.add_attachment_to_message(str(uuid.uuid4()), file_id),
                 lambda: client.delete_folder(folder_id)):
        with pytest.raises(AizoomdocError):
            await call()
    assert {"create_folder", "register_file", "add_attachment_to_message"} <= set(dir(client))


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------
async def test_foreign_keys_are_indexed_and_cascade(db: Database) -> None:
    def check(conn: Any) -> list[str]:
        insp = inspect(conn)
        problems = []
        for table in LIBRARY_TABLES:
            leading = {tuple(ix["column_names"][:1]) for ix in insp.get_indexes(table)}
            leading |= {tuple(u["column_names"][:1]) for u in insp.get_unique_constraints(table)}
            for fk in insp.get_foreign_keys(table):
                if tuple(fk["constrained_columns"][:1]) not in leading:
                    problems.append(f"{table}.{fk['constrained_columns']} has no index")
                if (fk.get("options") or {}).get("ondelete", "").upper() != "CASCADE":
                    problems.append(f"{table}.{fk['constrained_columns']} does not cascade")
        return problems

    assert await db.run(check) == []


@pytest.mark.postgres
async def test_rls_on_postgresql(pg_db: Database, user: str) -> None:
    """Under RLS a user sees none of another user's library rows, and cannot link their own rows
    to someone else's folder, file, chat, message or document — even with raw SQL."""
    lib, chats = LibraryStore(pg_db), ChatStore(pg_db)
    a, b = user, f"{user}_b"
    a_folder = await lib.create_folder("Папка А", a)
    a_file = await lib.register_file("external_link", "А", a, external_url="https://example.org/a")
    await lib.add_file_to_folder(a_folder, a_file)
    a_chat = await chats.create_chat("Чат А", a)
    a_msg = await chats.add_message(a_chat, "user", "Вопрос А")
    await lib.add_attachment_to_message(a_msg, a_file)
    a_doc = await _document(pg_db, a)
    b_folder = await lib.create_folder("Папка Б", b)
    b_file = await lib.register_file("external_link", "Б", b, external_url="https://example.org/b")
    b_chat = await chats.create_chat("Чат Б", b)
    b_msg = await chats.add_message(b_chat, "user", "Вопрос Б")

    rows = await pg_db.run(lambda c: {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                                      for t in LIBRARY_TABLES}, user_id=b)
    assert rows == {"folders": 1, "storage_files": 1, "folder_items": 0, "message_attachments": 0}
    assert set(await pg_db.run(lambda c: c.execute(text(
        "SELECT relname FROM pg_class WHERE relrowsecurity AND relname IN "
        "('folders', 'storage_files', 'folder_items', 'message_attachments')")).scalars().all())) == set(LIBRARY_TABLES)

    forged = [
        ("INSERT INTO folder_items (id, folder_id, file_id) VALUES (:i, :f, :x)", {"f": b_folder, "x": a_file}),
        ("INSERT INTO folder_items (id, folder_id, file_id) VALUES (:i, :f, :x)", {"f": a_folder, "x": b_file}),
        ("INSERT INTO folders (id, user_id, name, parent_id) VALUES (:i, :u, 'x', :p)", {"u": b, "p": a_folder}),
        ("INSERT INTO storage_files (id, user_id, source_type, filename, storage_path, document_id) "
         "VALUES (:i, :u, 'user_upload', 'x', 'k/x', :d)", {"u": b, "d": a_doc}),
        ("INSERT INTO storage_files (id, user_id, source_type, filename, storage_path, chat_id) "
         "VALUES (:i, :u, 'llm_generated', 'x', 'k/y', :c)", {"u": b, "c": a_chat}),
        ("INSERT INTO message_attachments (id, chat_id, message_id, file_id) VALUES (:i, :c, :m, :x)",
         {"c": b_chat, "m": b_msg, "x": a_file}),
        ("INSERT INTO message_attachments (id, chat_id, message_id, file_id) VALUES (:i, :c, :m, :x)",
         {"c": b_chat, "m": a_msg, "x": b_file}),
        ("INSERT INTO storage_files (id, user_id, source_type, filename, external_url) "
         "VALUES (:i, :u, 'external_link', 'x', 'https://e.org')", {"u": a}),
    ]
    for sql, params in forged:
        with pytest.raises(ForbiddenError):
            await pg_db.run(lambda c, s=sql, p=params: c.execute(text(s), {"i": str(uuid.uuid4()), **p}), user_id=b)
    # What B may do with B's own rows passes the same policies.
    await pg_db.run(lambda c: c.execute(text(
        "INSERT INTO folder_items (id, folder_id, file_id) VALUES (:i, :f, :x)"),
        {"i": str(uuid.uuid4()), "f": b_folder, "x": b_file}), user_id=b)
    assert [f["id"] for f in await lib.for_user(b).get_folder_files(b_folder)] == [b_file]
    # A's rows are untouched by B's attempts.
    assert await pg_db.run(lambda c: c.execute(text("UPDATE folders SET name = 'взлом' WHERE id = :f"),
                                               {"f": a_folder}).rowcount, user_id=b) == 0
    assert (await lib.get_folder(a_folder))["name"] == "Папка А"
