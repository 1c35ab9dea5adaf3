"""``GET /api/status``: online/offline (the UI's badge), what is pending, limits the UI needs.

When the chat store has an offline journal (``store/resilient.py``) its state is reported
(``offline_state()``: database online/offline, pending journal entries and files); otherwise
(``offline_state()`` is None) the database is pinged (``is_connected()``); the file storage is
pinged either way. Cached for a few seconds. No login is needed: the answer holds no user data,
and the UI needs it before login (auth mode, upload limit).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Depends

from aizoomdoc.api.deps import AppState, cached_status, get_state
from aizoomdoc.api.schemas import OUT, StatusOut
from aizoomdoc.texts import t

log = logging.getLogger(__name__)
router = APIRouter(tags=["status"])


async def compute_status(state: AppState) -> dict[str, Any]:
    store = state.store
    pending: dict[str, Any] = {}
    try:
        st = store.offline_state()
    except Exception:  # noqa: BLE001 - a broken status must not break the badge
        log.warning("offline_state() failed", exc_info=True)
        st = None
    if st is not None:
        db_online = st.get("database") == "online"
        pending = {k: st.get(k) for k in ("pending", "pending_files", "conflicts", "since", "last_error")}
    else:
        db_online = await asyncio.to_thread(store.is_connected)
    files_online = await asyncio.to_thread(state.files.is_connected)
    online = bool(db_online and files_online)
    settings = state.settings
    return {
        "online": online,
        "label": t("api.status.online") if online else t("api.status.offline"),
        "database": {"backend": state.db.dialect, "online": bool(db_online)},
        "storage": {"backend": state.files.backend, "online": bool(files_online)},
        "pending": pending,
        "auth_mode": settings.auth_mode,
        "max_file_size_mb": settings.max_file_size_mb,
        "llm": {"offline": state.provider is None,
                "model": getattr(state.provider, "model", None) if state.provider is not None else None},
        "running_questions": state.runner.running if state.runner is not None else 0,
        "live_events": "notify" if state.listener is not None and state.listener.active else "poll",
    }


@router.get("/api/status", summary=t("api.status.status.summary"),
            response_model=StatusOut, **OUT)
async def status(state: AppState = Depends(get_state)) -> dict[str, Any]:
    return await cached_status(state, lambda: compute_status(state))


__all__ = ["compute_status", "router"]
