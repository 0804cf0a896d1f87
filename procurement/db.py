"""Database engine selection: SQLite for the embedded default, PostgreSQL in production."""

from __future__ import annotations

from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine


def engine_for(database_url: str) -> Engine:  # type: ignore[type-arg]
    """Build the piccolo engine named by ``database_url`` (``sqlite:///path`` or ``postgresql://``).

    Raises:
        ValueError: for any other scheme, so a typo in settings fails at start-up.
    """
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        return SQLiteEngine(path=database_url.removeprefix("sqlite:///"))
    if parsed.scheme in {"postgres", "postgresql"}:
        return PostgresEngine(config={"dsn": database_url})
    raise ValueError(f"unsupported database URL scheme {parsed.scheme!r} in {database_url!r}")
