"""Everything a user reads, in Russian, kept in one place.

Each area of the application keeps its strings in a module of this package; :func:`t` looks a key
up in all of them and formats it with the given parameters.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any

log = logging.getLogger(__name__)

#: A missing key or parameter raises :class:`MissingTextError` instead of showing the key (and
#: logging an error). The test suite turns this on (tests/conftest.py).
STRICT = False

_CATALOG: dict[str, str] = {}
# Every module of this package is an area with a TEXTS dict; a new area needs no registration.
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _key, _value in _module.TEXTS.items():
        if _key in _CATALOG:
            raise RuntimeError(f"duplicate text key {_key!r}")
        _CATALOG[_key] = _value


class MissingTextError(LookupError):
    """A text key that is not in the catalog, or a parameter its text needs that was not given."""


def t(key: str, **params: Any) -> str:
    """The Russian text for ``key`` formatted with ``params``.

    A key missing from the catalog (or a parameter missing for its text) is a bug: it is logged as
    an error and the key (or the unformatted text) is shown, so the user still sees something; with
    :data:`STRICT` it raises :class:`MissingTextError`.
    """
    template = _CATALOG.get(key)
    if template is None:
        if STRICT:
            raise MissingTextError(f"no text for key {key!r}")
        log.error("no text for key %r", key)
        return key if not params else f"{key}: {params}"
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError) as exc:
        if STRICT:
            raise MissingTextError(f"text {key!r} cannot be formatted with {sorted(params)}: {exc!r}") from None
        log.error("text %r cannot be formatted with %s", key, sorted(params))
        return template


def keys() -> frozenset[str]:
    """Every key of the catalog."""
    return frozenset(_CATALOG)
