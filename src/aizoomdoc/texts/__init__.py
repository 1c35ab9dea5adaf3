"""Everything a user reads, in Russian, kept in one place.

Each area of the application keeps its strings in a module of this package; :func:`t` looks a key
up in all of them and formats it with the given parameters.
"""

from __future__ import annotations

from typing import Any

from aizoomdoc.texts import api, ask, common, documents, files, jobs, offline, store

_CATALOG: dict[str, str] = {}
for _module in (common, store, files, documents, ask, api, offline, jobs):
    for _key, _value in _module.TEXTS.items():
        if _key in _CATALOG:
            raise RuntimeError(f"duplicate text key {_key!r}")
        _CATALOG[_key] = _value


def t(key: str, **params: Any) -> str:
    """The Russian text for ``key`` formatted with ``params`` (unknown keys are shown as is)."""
    template = _CATALOG.get(key)
    if template is None:
        return key if not params else f"{key}: {params}"
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
