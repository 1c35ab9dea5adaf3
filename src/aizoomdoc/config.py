"""One Settings object for the whole application, read from the environment and `.env`.

Every variable is documented in `env.example`. With none set, the application runs on SQLite and a
local folder under ``DATA_DIR`` and answers with the direct (extractive, no language model) answerer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aizoomdoc.errors import ConfigError
from aizoomdoc.texts import t


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- Supabase / PostgreSQL -------------------------------------------------------------
    supabase_url: str | None = None
    supabase_anon_key: SecretStr | None = None
    supabase_service_key: SecretStr | None = None
    supabase_jwt_secret: SecretStr | None = None
    database_url: SecretStr | None = None
    use_database: bool = True
    db_connect_timeout: float = Field(5.0, gt=0)
    db_pool_size: int = Field(5, ge=1)

    # --- Offline mode (journal + sync; see docs/OFFLINE.md) ---------------------------------------
    offline_mode: bool = True  # PostgreSQL/S3 down -> keep working locally, sync when back
    sync_auto: bool = True  # probe and sync in the background
    sync_interval: float = Field(30.0, gt=0)  # seconds between background retries of a stuck sync
    sync_probe_initial: float = Field(1.0, gt=0)  # first probe of a dead server after this many s
    sync_probe_max: float = Field(60.0, gt=0)  # probe backoff doubles up to this many seconds
    sync_batch_size: int = Field(500, ge=1)  # journal entries per database transaction
    sync_max_attempts: int = Field(5, ge=1)  # failures before an entry is set aside as a conflict

    # --- S3-compatible storage ---------------------------------------------------------------
    use_s3_storage: bool = False
    s3_endpoint_url: str | None = None
    s3_region: str = "ru-central-1"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str | None = None
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"
    s3_url_expiration: int = Field(3600, gt=0)
    s3_connect_timeout: float = Field(3.0, gt=0)
    s3_read_timeout: float = Field(30.0, gt=0)
    s3_max_attempts: int = Field(2, ge=1)
    s3_max_concurrency: int = Field(16, ge=1)
    s3_multipart_threshold_mb: float = Field(16.0, ge=5)  # larger files go up in parts
    s3_multipart_chunk_mb: float = Field(5.0, ge=5)  # part size (S3 minimum 5 MB; measured best)
    max_file_size_mb: float = Field(100.0, gt=0)

    # --- Local data --------------------------------------------------------------------------
    data_dir: Path = Path("./aizoomdoc-data")
    signing_secret: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"  # base of the local backend's /files/ links

    # --- LLM ---------------------------------------------------------------------------------
    llm_base_url: str = "https://openrouter.ai/api/v1"
    llm_api_key: SecretStr | None = None
    llm_model: str = "google/gemini-2.5-flash"
    llm_timeout: float = Field(120.0, gt=0)
    llm_max_retries: int = Field(3, ge=0)
    llm_max_steps: int = Field(10, ge=1)
    llm_max_images_per_call: int = Field(6, ge=1)
    llm_max_chars_per_call: int = Field(24000, ge=1000)
    llm_stream: bool = True
    llm_temperature: float | None = Field(0.2, ge=0, le=2)
    llm_retry_backoff: float = Field(1.0, ge=0)
    llm_retry_backoff_max: float = Field(30.0, ge=0)
    llm_history_messages: int = Field(4, ge=0)
    llm_context_chars: int = Field(7000, ge=1000)

    # --- Search / viewports ------------------------------------------------------------------
    search_top_k: int = Field(10, ge=1)
    search_list_top_k: int = Field(30, ge=1)  # hits for list questions ("Найди все …", "перечисли …")
    viewport_max_pixels: int = Field(4_000_000, ge=100_000)
    viewport_max_count: int = Field(6, ge=0)
    viewport_target_cap_px: float = Field(24.0, gt=4)
    viewport_max_dpi: float = Field(600.0, ge=72)
    viewport_grid: bool = True
    viewport_outline_hits: bool = True
    viewport_min_cap_px: float = Field(20.0, gt=4)  # legibility floor of a hit's text (cap height, px)
    viewport_max_side: int = Field(2000, ge=400)  # longest side of a viewport image, px

    # --- Revision compare --------------------------------------------------------------------
    compare_visual: bool = True  # compare the rendered drawings of PDFs, not only the text
    compare_render_max_pixels: int = Field(3_000_000, ge=100_000)  # per rendered sheet
    compare_timeout: float = Field(600.0, gt=0)  # seconds per comparison (own process, killed after)
    compare_max_memory_mb: int = Field(4096, ge=256)  # address space of that process
    compare_concurrency: int = Field(2, ge=1)  # comparison processes at once per server process

    # --- OCR (pages without a usable text layer; see documents/ocr.py) ------------------------
    ocr_mode: Literal["auto", "always", "never"] = "auto"  # auto: pages with no or garbled text only
    ocr_lang: str = "rus"  # Tesseract languages, e.g. "rus" or "rus+eng"
    ocr_dpi: float = Field(300.0, ge=72, le=600)  # raster resolution of a PDF page for OCR
    ocr_max_pixels: int = Field(80_000_000, ge=1_000_000)  # larger pages are rasterised at a lower dpi
    ocr_min_confidence: float = Field(30.0, ge=0, le=100)  # words Tesseract is less sure of are dropped
    ocr_timeout: float = Field(600.0, gt=0)  # seconds per page before its OCR process is killed
    ocr_memory_mb: int = Field(4096, ge=256)  # address-space limit of an OCR process
    ocr_nice: int = Field(10, ge=0, le=19)  # lower CPU priority of OCR processes (the API answers first)
    ocr_tessdata_dir: str | None = None  # folder with rus.traineddata (default: Debian's, TESSDATA_PREFIX)

    # --- Background jobs (ingest + OCR of uploads; see docs/JOBS.md) --------------------------------
    jobs_backend: Literal["auto", "local", "queue"] = "auto"  # auto: queue on PostgreSQL, local on SQLite
    jobs_local_workers: int = Field(0, ge=0)  # OCR processes of the local runner (0: one per CPU core)
    jobs_worker_concurrency: int = Field(1, ge=1)  # jobs one `aizoomdoc worker` runs at once
    jobs_heartbeat_seconds: float = Field(10.0, gt=0)  # how often a worker says it is alive
    jobs_stalled_seconds: float = Field(30.0, gt=0)  # silent this long: its jobs are given to others
    jobs_max_attempts: int = Field(3, ge=1)  # tries of a failing job before the document is `error`
    jobs_upload_wait_seconds: float = Field(600.0, gt=0)  # longest wait of POST /api/documents?wait=true

    # --- Server ------------------------------------------------------------------------------
    auth_mode: Literal["local", "server"] = "local"
    default_user_id: str = "local"
    api_token_pepper: SecretStr | None = None  # HMAC key for stored API token hashes (optional)
    cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser
    api_ask_concurrency: int = Field(8, ge=1)  # questions answered at once per worker
    api_events_poll_interval: float = Field(0.25, gt=0)  # seconds between event-log polls (SSE)
    api_max_queued_questions: int = Field(5, ge=1)  # questions one user may have unanswered (per worker)
    api_max_streams_per_user: int = Field(10, ge=1)  # open event streams (SSE) per user (per worker)

    # --- Untrusted files: worker processes and limits (docs/API.md, "Security model") ----------
    worker_processes: int = Field(2, ge=1)  # processes that parse uploads and render pages
    worker_memory_mb: int = Field(2048, ge=256)  # address-space limit of one parse/render job
    render_timeout: float = Field(20.0, gt=0)  # seconds one render may take before it is killed
    parse_timeout: float = Field(300.0, gt=0)  # seconds parsing one uploaded file may take
    render_max_operations: int = Field(5_000_000, ge=1000)  # drawing-command tokens of one page
    max_image_pixels: int = Field(180_000_000, ge=1_000_000)  # pixels of one decoded picture

    # --- Cache of renders and search indexes (docs/CACHE.md) ------------------------------------
    cache_enabled: bool = True
    redis_url: SecretStr | None = None  # redis://[:password@]host:6379/0; empty = in-process cache only
    cache_prefix: str = "aizoomdoc:"  # prefix of every Redis key this application writes
    cache_memory_mb: float = Field(256.0, ge=0)  # in-process LRU per worker
    cache_redis_mb: float = Field(1024.0, gt=0)  # cap on the total size of our entries in Redis
    cache_ttl_seconds: float = Field(7 * 86400.0, gt=0)  # an entry unused this long is dropped
    cache_redis_timeout: float = Field(0.5, gt=0)  # seconds per Redis call before it counts as a miss

    # --- Usage analytics (docs/STATS.md) ---------------------------------------------------------
    analytics_enabled: bool = True
    analytics_store_questions: bool = False  # keep question text in usage_questions (privacy: off)
    admin_user_ids: str = ""  # comma-separated user ids who see everyone's statistics
    llm_prices: str = ""  # JSON {"model": {"in": price, "out": price}} per 1M tokens; empty = no estimate
    stats_timezone: str = "UTC"  # IANA zone the per-day statistics are counted in

    # --- Backup to a second S3 bucket (docs/BACKUP.md; empty = the S3_* values) -------------------
    backup_s3_endpoint_url: str | None = None
    backup_s3_region: str | None = None
    backup_s3_access_key: SecretStr | None = None
    backup_s3_secret_key: SecretStr | None = None
    backup_s3_addressing_style: Literal["path", "virtual", "auto"] | None = None
    backup_concurrency: int = Field(8, ge=1)  # files copied at once by backup and restore

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    # Convenience accessors ---------------------------------------------------------------------
    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "aizoomdoc.db"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def local_workers(self) -> int:
        import os

        return self.jobs_local_workers or os.cpu_count() or 1

    @property
    def max_file_size_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)

    def secret(self, name: str) -> str | None:
        """The plain value of a secret field, or None."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None


_DETAIL_KEYS = {
    "float_parsing": "config.detail.number", "float_type": "config.detail.number",
    "int_parsing": "config.detail.integer", "int_type": "config.detail.integer",
    "int_from_float": "config.detail.integer", "bool_parsing": "config.detail.bool",
    "bool_type": "config.detail.bool", "greater_than_equal": "config.detail.ge",
    "greater_than": "config.detail.gt", "less_than_equal": "config.detail.le", "less_than": "config.detail.lt",
    "literal_error": "config.detail.choice",
}


def settings_error(exc: ValidationError) -> ConfigError:
    """The first problem of a :class:`ValidationError` of :class:`Settings` as a :class:`ConfigError`
    in Russian: the variable, what is wrong, the value given (never the value of a secret)."""
    first = exc.errors()[0]
    field_name = ".".join(str(p) for p in first["loc"])
    ctx = first.get("ctx") or {}
    limit = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
    info = Settings.model_fields.get(str(first["loc"][0])) if first["loc"] else None
    secret = info is not None and "SecretStr" in repr(info.annotation)
    value = "…" if secret else str(first.get("input", ""))[:80]
    key = _DETAIL_KEYS.get(first["type"])
    detail = (t(key, value=value, limit=f"{limit:g}" if isinstance(limit, float) else limit,
                expected=str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", "))
              if key else first["msg"])
    return ConfigError("config.invalid", name=field_name.upper(), detail=detail)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment and ``.env``; a wrong value raises :class:`ConfigError`."""
    try:
        return Settings()
    except ValidationError as exc:
        raise settings_error(exc) from None


def reset_settings_cache() -> None:
    get_settings.cache_clear()
