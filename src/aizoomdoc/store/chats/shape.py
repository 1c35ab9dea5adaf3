"""Database rows -> the dicts the chat store returns, per dialect.

SQLite keeps timestamps as text (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC): they are selected as text
and turned into ISO 8601 by string operations in the query (parsing them into datetimes only to
print them again costs more than the query). PostgreSQL formats them with ``to_char``. Either way
the result is :func:`aizoomdoc.store.clock.to_iso`'s shape. JSON columns come as text and are
decoded per column in one ``json.loads`` call over all rows (the per-call overhead of
``json.loads`` is most of its cost for small values like coordinates).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, DateTime, Table, Text, Uuid, cast, func, literal_column, type_coerce

log = logging.getLogger(__name__)

#: ISO 8601 in UTC with microseconds, formatted by PostgreSQL.
_PG_ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'


class RowShape:
    """The columns to select from a table on one dialect and a fast rows -> dicts conversion.

    Timestamps come as ISO 8601 text and uuids as text, formatted by the database.
    """

    def __init__(self, table: Table, dialect: str) -> None:
        sqlite_ = dialect == "sqlite"
        self.names = [c.name for c in table.c]
        self.json_names: list[str] = []
        self.columns: list[Any] = []
        for c in table.c:
            if isinstance(c.type, DateTime):
                if sqlite_:
                    # Stored as "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC).
                    expr: Any = func.replace(type_coerce(c, Text), literal_column("' '"),
                                             literal_column("'T'")).concat(literal_column("'+00:00'"))
                else:
                    expr = func.to_char(func.timezone(literal_column("'UTC'"), c),
                                        literal_column(f"'{_PG_ISO_FORMAT}'"))
                self.columns.append(type_coerce(expr, Text).label(c.name))
            elif c.type._type_affinity is JSON:
                self.json_names.append(c.name)
                expr = type_coerce(c, Text) if sqlite_ else cast(c, Text)
                self.columns.append(type_coerce(expr, Text).label(c.name))
            elif not sqlite_ and c.type._type_affinity is Uuid:
                self.columns.append(cast(c, Text).label(c.name))
            else:
                self.columns.append(c)

    def convert(self, row: Any) -> dict[str, Any]:
        return self.convert_all([row])[0]

    def convert_all(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        names = self.names
        out = [dict(zip(names, row, strict=True)) for row in rows]
        for name in self.json_names:
            present = [d for d in out if d[name] is not None]
            if present:
                for d, value in zip(present, loads_many([d[name] for d in present]), strict=True):
                    d[name] = value
        return out


def loads_many(texts: list[str]) -> list[Any]:
    """Decode many JSON texts with one parser call; value by value if that does not add up."""
    if len(texts) > 1:
        try:
            values = json.loads("[" + ",".join(texts) + "]")
            if len(values) == len(texts):
                return values
        except ValueError:
            pass
    out = []
    for text_ in texts:
        try:
            out.append(json.loads(text_))
        except ValueError:
            log.warning("a JSON field in the database is not valid JSON; returned as text")
            out.append(text_)
    return out


__all__ = ["RowShape", "loads_many"]
