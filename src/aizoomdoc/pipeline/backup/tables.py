"""The database half of a backup: a consistent dump of every table, and loading it back.

The tables are those of the schema metadata (``store/schema.py``), so a table added by a later
migration is backed up without touching this module. The dump reads all of them in one read-only
transaction (PostgreSQL: REPEATABLE READ; SQLite: one explicit read transaction), so every row of
every table is from the same moment. Each table becomes a gzip file of JSON lines, one object per
row keyed by column name; values are JSON (timestamps as ISO 8601 with offset, binary as base64;
JSON columns as their stored text, so a restore writes back exactly the text that was stored),
decoded on restore by the column types of the *restoring* version: restores do not depend on the
version that wrote them, only on the format version of the manifest.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    LargeBinary,
    Numeric,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Insert

from aizoomdoc.store.schema import metadata

#: Rows per insert batch on restore.
INSERT_BATCH = 1000


def backup_tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(metadata.sorted_tables)


@dataclass
class TablePart:
    name: str
    rows: int
    columns: list[str]
    path: Path
    sha256: str = ""
    bytes: int = 0

    def to_manifest(self, part: str) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "columns": self.columns, "part": part,
                "sha256": self.sha256, "bytes": self.bytes}


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    return value


def _is_json(col: Column[Any]) -> bool:
    return isinstance(col.type, JSON)


def _decoder(col: Column[Any]) -> Callable[[Any], Any]:
    if isinstance(col.type, DateTime):
        return lambda v: datetime.fromisoformat(v) if isinstance(v, str) else v
    if isinstance(col.type, Date):
        return lambda v: date.fromisoformat(v) if isinstance(v, str) else v
    if isinstance(col.type, LargeBinary):
        return lambda v: base64.b64decode(v) if isinstance(v, str) else v
    if isinstance(col.type, Numeric) and getattr(col.type, "asdecimal", False):
        return lambda v: Decimal(v) if isinstance(v, str) else v
    return lambda v: v


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def dump(conn: Connection, folder: Path) -> tuple[list[TablePart], str | None]:
    """Every table into ``folder/{table}.jsonl.gz`` in one consistent read; the parts and the
    schema revision. Runs inside :meth:`Database.run` (one transaction)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    else:  # pysqlite starts transactions only for writes: make the reads one snapshot
        conn.exec_driver_sql("BEGIN")
    present = set(inspect(conn).get_table_names())
    revision = None
    if "alembic_version" in present:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    parts = []
    for table in backup_tables():
        if table.name not in present:
            continue
        columns = [c.name for c in table.columns]
        path = folder / f"{table.name}.jsonl.gz"
        order = list(table.primary_key.columns) or list(table.columns)
        cols = [cast(c, Text).label(c.name) if _is_json(c) else c for c in table.columns]
        count = 0
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
            result = conn.execution_options(yield_per=1000).execute(select(*cols).order_by(*order))
            for row in result:
                out.write(json.dumps({k: _encode(v) for k, v in zip(columns, row, strict=True)}, ensure_ascii=False,
                                     separators=(",", ":")))
                out.write("\n")
                count += 1
        parts.append(TablePart(table.name, count, columns, path, sha256_file(path), path.stat().st_size))
    return parts, revision


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows per schema table that exists in the database."""
    present = set(inspect(conn).get_table_names())
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in backup_tables() if t.name in present}


def load(conn: Connection, parts: dict[str, Path], *, replace: bool) -> dict[str, int]:
    """Insert the dumped rows (``{table: path}``) in one transaction; with ``replace`` the tables'
    current rows are deleted first. Columns unknown here are skipped (a newer writer); tables the
    backup lacks stay as they are (an older writer). Returns rows inserted per table."""
    tables = [t for t in backup_tables() if t.name in parts]
    if replace:
        for table in reversed(backup_tables()):
            conn.execute(delete(table))
    counts = {}
    for table in tables:
        decoders = {c.name: _decoder(c) for c in table.columns}
        stmt: Insert | None = None
        batch: list[dict[str, Any]] = []
        n = 0
        for row in read_rows(parts[table.name]):
            values = {k: decoders[k](v) for k, v in row.items() if k in decoders}
            if stmt is None:
                stmt = _insert(table, list(values), conn.dialect.name)
            batch.append(values)
            if len(batch) >= INSERT_BATCH:
                conn.execute(stmt, batch)
                n += len(batch)
                batch = []
        if batch:
            conn.execute(stmt, batch)  # type: ignore[arg-type]
            n += len(batch)
        counts[table.name] = n
    return counts


def _insert(table: Table, names: list[str], dialect: str) -> Insert:
    """INSERT of ``names``; JSON columns take their stored text as is (jsonb: cast from text)."""
    values: dict[str, Any] = {}
    for name in names:
        col = table.c[name]
        if _is_json(col):
            param = bindparam(name, type_=Text())
            values[name] = cast(param, JSONB) if dialect == "postgresql" else param
        else:
            values[name] = bindparam(name, type_=col.type)
    return table.insert().values(values)


__all__ = ["TablePart", "backup_tables", "dump", "load", "read_rows", "row_counts", "sha256_file"]
