"""HTTP API (FastAPI + Server-Sent Events) and the web UI it serves: ``create_app(settings)``."""

from aizoomdoc.api.app import app_factory, create_app

__all__ = ["app_factory", "create_app"]
