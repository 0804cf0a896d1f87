"""Database engine selection: SQLite for the embedded default, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table


def engine_for(database_url: str) -> Engine:  # type: ignore[type-arg]
    """Build the piccolo engine named by ``database_url`` (``sqlite:///path`` or ``postgresql://``).

    Raises:
        ValueError: for any other scheme, so a typo in settings fails at start-up.
    """
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        # a generous busy timeout: web, worker and beat share one file
        return SQLiteEngine(path=database_url.removeprefix("sqlite:///"), timeout=30)
    if parsed.scheme in {"postgres", "postgresql"}:
        return PostgresEngine(config={"dsn": database_url})
    raise ValueError(f"unsupported database URL scheme {parsed.scheme!r} in {database_url!r}")


def transaction(engine: Engine) -> Any:  # type: ignore[type-arg]
    """A transaction that serialises writers on both engines.

    SQLite upgrades a deferred transaction to a write lock only at the first write, which
    can fail with "database is locked" under concurrency; IMMEDIATE takes the lock at the
    start. Nested calls join the outer transaction (ARCHITECTURE §10: one place for
    engine differences).
    """
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def is_unique_violation(exc: BaseException) -> bool:
    """Whether ``exc`` is a unique-constraint violation, whichever engine raised it."""
    import sqlite3

    import asyncpg

    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


def bind_engine(engine: Engine, tables: Iterable[type[Table]]) -> None:  # type: ignore[type-arg]
    """Point every table at ``engine``, so one process talks to exactly one database."""
    for table in tables:
        table._meta.db = engine


def as_aware(value: datetime | str) -> datetime:
    """A timestamp from a raw query or a computed column as an aware datetime.

    asyncpg returns datetimes; piccolo's SQLite engine converts only columns of a declared
    type, so a raw query or an expression (``COALESCE(a, b)``) gives back the stored text,
    possibly naive UTC. Every such value is read through here.
    """
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def one_page(
    select: Any, count: Any, conditions: list[Any], *, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """Rows of one page of a filtered list, and how many rows match in all.

    ``select`` comes ordered; ``conditions`` apply to both queries, so the page and the
    count always describe the same list (the notice search, the registry, the accounts).
    """
    for condition in conditions:
        select = select.where(condition)
        count = count.where(condition)
    rows = await select.limit(per_page).offset((page - 1) * per_page)
    return list(rows), int(await count)
