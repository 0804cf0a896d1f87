"""The ``zhaocai`` command: run the platform, migrate, load demo data, verify evidence."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from procurement.settings import Settings

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def _bind(settings: Settings) -> None:
    """Point the tables at the settings' database and give the packages their adapters."""
    from procurement.db import bind_engine, engine_for
    from storage import open_object_store
    from zhaocai.wiring import all_tables, configure_packages

    bind_engine(engine_for(settings.database_url), all_tables())
    configure_packages(settings, open_object_store(settings.storage_url))


@click.group()
def main() -> None:
    """Zhaocai (招采): public e-procurement and tendering platform."""


@main.command()
def migrate() -> None:
    """Apply every package's database migrations (idempotent)."""
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _run(_migrate())
    click.echo("database is up to date")


async def _migrate() -> None:
    os.environ.setdefault("PICCOLO_CONF", "zhaocai.piccolo_conf")
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from procurement.tables import AuditEntry

    engine = AuditEntry._meta.db
    if engine.engine_type == "sqlite":
        # WAL lets the web server read while a worker writes; it persists in the file
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    response = await run_forwards(app_name="all", fake=False)
    if not response.success:
        raise click.ClickException(f"migration failed: {response.message}")


@main.command()
@click.option("--force", is_flag=True, help="Load even if the database already has data.")
def demo(force: bool) -> None:
    """Load demo data (purchasers, suppliers, projects in every state) once."""
    from zhaocai.demo import load_demo_data

    settings = Settings.from_env()
    _bind(settings)
    loaded = _run(load_demo_data(settings, force=force))
    click.echo("demo data loaded" if loaded else "database already has data; nothing loaded")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web application only (production: one of several web processes)."""
    import uvicorn

    uvicorn.run("zhaocai.asgi:app", host=host, port=port, proxy_headers=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Everything on one machine: migrate, demo data on first run, web + worker + beat."""
    from zhaocai.demo import DEMO_LOGINS, load_demo_data

    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _run(_migrate())
    _bind(settings)
    if _run(load_demo_data(settings)):
        click.echo("demo data loaded")
    env = {**os.environ, "ZHAOCAI_DATA_DIR": str(settings.data_dir)}
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "zhaocai.celery_app",
            "worker",
            "--beat",
            "--loglevel=INFO",
            "--concurrency=2",
            "--pool=threads",
            f"--schedule={settings.data_dir / 'celerybeat-schedule'}",
        ],
        env=env,
    )
    web = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "uvicorn", "zhaocai.asgi:app", "--host", host, "--port", str(port)],
        env=env,
    )
    url = f"http://{host}:{port}/"
    click.echo("")
    click.echo(f"  Zhaocai is running at {url}")
    click.echo("  Demo logins (password for all: " + DEMO_LOGINS["password"] + "):")
    for role, username in DEMO_LOGINS["users"]:
        click.echo(f"    {role:<12} {username}")
    click.echo("  Press Ctrl+C to stop.")
    click.echo("")

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # a process manager stops us like Ctrl+C does
    try:
        while web.poll() is None and worker.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (web, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the audit chain and name the first bad entry (exit status 1 if broken)."""
    from procurement.audit import verify_audit_log

    _bind(Settings.from_env())
    result = _run(verify_audit_log())
    if result.intact:
        click.echo(f"audit log intact: {result.entries} entries verified")
        return
    assert result.first_break is not None  # noqa: S101 - not intact means a break
    click.echo(
        f"audit log BROKEN at entry {result.first_break.seq}: "
        f"{result.first_break.reason} ({result.entries} entries before it verified)",
        err=True,
    )
    sys.exit(1)


@main.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.option("--username", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "purchaser", "bidder", "expert", "custodian", "supervisor"]),
)
@click.option("--name", "display_name", required=True)
@click.option("--organisation-id", type=int, default=None)
@click.password_option()
def user_create(
    username: str, role: str, display_name: str, organisation_id: int | None, password: str
) -> None:
    """Create an active account (an admin for a new installation, say)."""
    from procurement.accounts import create_user
    from procurement.exceptions import ZhaocaiError
    from procurement.roles import Role

    _bind(Settings.from_env())
    try:
        user_id = _run(
            create_user(
                username=username,
                password=password,
                role=Role(role),
                display_name=display_name,
                organisation_id=organisation_id,
            )
        )
    except ZhaocaiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created user {username} (id {user_id})")
