"""Response models of the HTTP API: what the routes return, named and described in /docs (OpenAPI).

The routes build plain dicts (rows of the store, ``to_dict()`` of domain objects); these models
describe them without changing a byte of the JSON:

- every model allows extra fields (``extra="allow"``): a row's other columns, keys added later;
- every field is optional with default None and the routes serialize with
  ``response_model_exclude_unset=True`` (see :data:`OUT`), so a key the route did not send is not
  added, and a null it sent stays null;
- numbers that may be integers or fractions are ``int | float`` (pydantic keeps the type it got),
  values a user can write (JSON columns: ``metadata``, ``coords_norm``) are ``Any``.

``tests/test_api_schemas.py`` checks that /openapi.json names them for the main routes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Keyword arguments of every route with a response model here: keys the route did not send stay out.
OUT: dict[str, Any] = {"response_model_exclude_unset": True}

Number = int | float


class Out(BaseModel):
    """Base of the response models: open (extra fields pass through as they are)."""

    model_config = ConfigDict(extra="allow")


# --- chats and messages ----------------------------------------------------------------------------
class ChatOut(Out):
    """A chat: the store's row plus ``document_ids`` (the documents questions are asked about)."""

    id: str | None = None
    user_id: str | None = None
    title: str | None = None
    description: str | None = None
    document_path: str | None = None
    is_archived: bool | None = None
    metadata: Any = Field(None, description="JSON of the chat (document_ids among others)")
    created_at: str | None = Field(None, description="ISO 8601, UTC")
    updated_at: str | None = Field(None, description="ISO 8601, UTC")
    document_ids: list[Any] | None = Field(None, description="ids of the documents attached to the chat")


class ChatList(Out):
    chats: list[ChatOut] | None = None


class ImageOut(Out):
    """An image of a chat (a zoom, a page render, an upload) with a fresh signed ``url``."""

    id: str | None = None
    chat_id: str | None = None
    message_id: str | None = None
    image_name: str | None = None
    s3_path: str | None = None
    s3_url: str | None = None
    image_type: str | None = Field(None, description="viewport, zoom_crop, page, user_upload …")
    description: str | None = None
    width: int | None = None
    height: int | None = None
    file_size: int | None = None
    page_number: int | None = None
    coords_norm: Any = Field(None, description="[x1, y1, x2, y2] on the page, 0..1")
    uploaded_at: str | None = None
    sync_state: str | None = None
    url: str | None = Field(None, description="signed link, fresh on every read (None: not this chat's file)")


class SearchResultOut(Out):
    """A block found for a question of the chat."""

    id: str | None = None
    chat_id: str | None = None
    message_id: str | None = None
    document_id: str | None = None
    block_id: str | None = None
    page_number: int | None = None
    block_text: str | None = None
    coords_norm: Any = None
    coords_px: Any = None
    score: Number | None = None
    created_at: str | None = None


class MessageOut(Out):
    """A message of a chat; an answer's ``metadata`` holds its ``citations`` (document, page,
    block, coords_norm) and whether the offline answerer wrote it."""

    id: str | None = None
    chat_id: str | None = None
    role: str | None = Field(None, description="user | assistant | system")
    content: str | None = None
    message_type: str | None = Field(None, description="text | error …")
    model: str | None = None
    metadata: Any = Field(None, description="citations, offline, usage …")
    created_at: str | None = None
    images: list[ImageOut] | None = None
    search_results: list[SearchResultOut] | None = None


class ChatHistory(Out):
    """A chat with its history, and where its live events go on from."""

    chat: ChatOut | None = None
    messages: list[MessageOut] | None = None
    last_event_id: int | None = Field(None, description="the last event of the chat's event log")
    active_after: int | None = Field(None, description="follow the events after this id (a question still running)")


class MessageList(Out):
    messages: list[MessageOut] | None = None


class QuestionAccepted(Out):
    """A question accepted: the answer comes as events of the chat."""

    chat_id: str | None = None
    question_id: str | None = None
    event_id: int | None = None
    events_url: str | None = None


class ImageList(Out):
    images: list[ImageOut] | None = None


class SearchResultList(Out):
    results: list[SearchResultOut] | None = None


# --- documents -------------------------------------------------------------------------------------
class DocumentProgress(Out):
    pages_done: int | None = None
    pages_total: int | None = None


class PageOut(Out):
    """A page of a document: size, whether it was scanned and read by OCR, its text layer."""

    page_index: int | None = None
    width: Number | None = None
    height: Number | None = None
    unit: str | None = None
    is_scanned: bool | None = None
    sheet: Any = None
    ocr: Any = None
    ocr_confidence: Number | None = None
    ocr_error: str | None = None
    text_layer: str | None = Field(None, description="ok | none | garbage")


class DocumentOut(Out):
    """A document of the user with its processing status (queued, processing, ready, error)."""

    id: str | None = None
    title: str | None = None
    filename: str | None = None
    source_format: str | None = None
    file_size: int | None = None
    page_count: int | None = None
    block_count: int | None = None
    sheet: Any = Field(None, description="the title block (stamp): cipher, sheet, stage …")
    created_at: str | None = None
    updated_at: str | None = None
    can_render: bool | None = Field(None, description="pages can be shown as images (a PDF is stored)")
    warnings: list[Any] | None = None
    pages_without_text: Any = None
    notes: list[str] | None = Field(None, description="what could not be read, in Russian")
    status: str | None = Field(None, description="queued | processing | ready | error")
    status_text: str | None = None
    error: str | None = None
    progress: DocumentProgress | None = None
    ocr_pages: int | None = None
    unreadable_pages: list[int] | None = None
    unreadable_reason: str | None = None


class DocumentDetail(DocumentOut):
    pages: list[PageOut] | None = None


class DocumentList(Out):
    documents: list[DocumentOut] | None = None


class SearchHit(Out):
    """A block found by search: document, page, block, type, text, score, normalised box."""

    document_id: str | None = None
    block_id: str | None = None
    page_number: int | None = None
    page_index: int | None = None
    block_type: str | None = None
    text: str | None = None
    score: Number | None = None
    coords_norm: list[Number] | None = None
    row_text: str | None = Field(None, description="the whole table row of a cell")


class SearchHits(Out):
    query: str | None = None
    hits: list[SearchHit] | None = None


class ExampleQuestions(Out):
    questions: list[str] | None = None


# --- status and statistics ---------------------------------------------------------------------------
class BackendState(Out):
    backend: str | None = None
    online: bool | None = None


class LlmState(Out):
    offline: bool | None = None
    model: str | None = None


class StatusOut(Out):
    """Online or not (the UI's badge), what waits to be synced, the limits the UI needs."""

    online: bool | None = None
    label: str | None = None
    database: BackendState | None = None
    storage: BackendState | None = None
    pending: dict[str, Any] | None = Field(None, description="pending, pending_files, conflicts, since, last_error")
    auth_mode: str | None = None
    max_file_size_mb: Number | None = None
    llm: LlmState | None = None
    running_questions: int | None = None
    live_events: str | None = Field(None, description="notify | poll")


class StatsOut(Out):
    """Usage statistics of a period (same keys as ``aizoomdoc stats --json``)."""

    since: str | None = None
    until: str | None = None
    questions: int | None = None
    answers: int | None = None
    errors: int | None = None
    errors_by_kind: dict[str, Any] | None = None
    llm_calls: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_estimate: Number | None = None
    cost_unpriced_models: list[Any] | None = None
    images: int | None = None
    renders: int | None = None
    render_cache_hits: int | None = None
    render_cache_hit_rate: Number | None = None
    documents: int | None = None
    pages: int | None = None
    ocr_pages: int | None = None
    documents_asked: int | None = None
    users: int | None = None
    answer_seconds_p50: Number | None = None
    answer_seconds_p95: Number | None = None
    by_day: list[dict[str, Any]] | None = None
    by_user: list[dict[str, Any]] | None = None
    by_model: list[dict[str, Any]] | None = None
    scope: str | None = Field(None, description="own | user | all")
    admin: bool | None = None


# --- library -----------------------------------------------------------------------------------------
class FolderOut(Out):
    """A folder of the library (a tree through ``parent_id``)."""

    id: str | None = None
    parent_id: str | None = None
    name: str | None = None


class FolderList(Out):
    folders: list[FolderOut] | None = None


class LibraryFileOut(Out):
    """A file of the library: an ingested document, another file or a link."""

    id: str | None = None
    filename: str | None = None
    source_type: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    document_id: str | None = None
    external_url: str | None = None
    chat_id: str | None = None
    kind: str | None = Field(None, description="document | link | generated | file")
    title: str | None = None
    page_count: int | None = None
    block_count: int | None = None
    download_url: str | None = None


class LibraryFileDetail(LibraryFileOut):
    folders: list[FolderOut] | None = None


class LibraryFileList(Out):
    files: list[LibraryFileOut] | None = None


class AttachmentList(Out):
    attachments: list[LibraryFileOut] | None = None


class FolderDeleted(Out):
    folders: int | None = Field(None, description="folders deleted (with the subfolders)")
    deleted_files: list[dict[str, Any]] | None = Field(None, description="files deleted with it (id, filename, document_id)")
    kept_files: int | None = None


# --- compare -----------------------------------------------------------------------------------------
class CompareVersion(Out):
    title: str | None = None
    source_format: str | None = None
    sha256: str | None = None
    pages: int | None = None
    document_id: str | None = None
    can_render: bool | None = None


class CompareChange(Out):
    kind: str | None = None
    old_text: str | None = None
    new_text: str | None = None
    bbox_norm_old: list[Number] | None = None
    bbox_norm_new: list[Number] | None = None
    block_old: str | None = None
    block_new: str | None = None
    cells: list[dict[str, Any]] | None = None


class CompareSheet(Out):
    old_page: int | None = None
    new_page: int | None = None
    sheet: str | None = None
    title: str | None = None
    status: str | None = Field(None, description="same | changed | added | removed")
    changes: list[CompareChange] | None = None
    split_from: str | None = None
    notes: list[str] | None = None
    old_image: str | None = Field(None, description="the old page with the changes highlighted")
    new_image: str | None = None


class CompareSummary(Out):
    sheets: int | None = None
    same: int | None = None
    changed: int | None = None
    added: int | None = None
    removed: int | None = None
    changes: int | None = None
    by_kind: dict[str, int] | None = None
    changed_sheets: list[str] | None = None


class ComparisonOut(Out):
    """Two versions of a drawing set compared sheet by sheet (see docs/COMPARE.md)."""

    old: CompareVersion | None = None
    new: CompareVersion | None = None
    sheets: list[CompareSheet] | None = None
    # "register" is a name of BaseModel's own (ABC.register): the field goes by an alias.
    register_: dict[str, Any] | None = Field(None, alias="register",
                                             description="the register of changes of the new version vs the comparison")
    summary: CompareSummary | None = None


__all__ = [
    "OUT", "AttachmentList", "ChatHistory", "ChatList", "ChatOut", "CompareSheet", "ComparisonOut", "DocumentDetail",
    "DocumentList", "DocumentOut", "ExampleQuestions", "FolderDeleted", "FolderList", "FolderOut", "ImageList",
    "ImageOut", "LibraryFileDetail", "LibraryFileList", "LibraryFileOut", "MessageList", "MessageOut",
    "QuestionAccepted", "SearchHit", "SearchHits", "SearchResultList", "SearchResultOut", "StatsOut", "StatusOut",
]
