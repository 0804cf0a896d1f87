"""The ``zhaocai`` command: run the platform, migrate, load demo data, verify evidence."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
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


def _client(url: str, username: str, password: str) -> Any:
    from bidding.client import ClientError, ZhaocaiClient

    try:
        return ZhaocaiClient.login(url, username, password)
    except (ClientError, OSError) as exc:
        raise click.ClickException(f"cannot log in to {url}: {exc}") from exc


_url = click.option(
    "--url", default="http://127.0.0.1:8000", show_default=True, help="Base URL of the platform."
)
_username = click.option("--username", "-u", required=True)
_password = click.option(
    "--password",
    envvar="ZHAOCAI_PASSWORD",
    prompt=True,
    hide_input=True,
    help="Or set ZHAOCAI_PASSWORD.",
)


@main.group()
def bid() -> None:
    """Submit or withdraw sealed bids from a script (the bidder's side)."""


@bid.command("submit")
@_url
@_username
@_password
@click.option("--lot", "lot_id", type=int, required=True)
@click.option("--price", required=True, help="Quoted total in yuan, e.g. 1250000.00")
@click.option(
    "--file",
    "files",
    multiple=True,
    metavar="KIND=PATH",
    help="technical=..., commercial=..., qualification=..., other=...",
)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where sealed files and the resume state are kept.",
)
def bid_submit(
    url: str,
    username: str,
    password: str,
    lot_id: int,
    price: str,
    files: tuple[str, ...],
    workdir: Path | None,
) -> None:
    """Seal files locally, upload them in resumable parts, print the receipt.

    Run the same command again after an interruption: it resumes from the sealed files in
    the work directory.
    """
    from bidding.client import ClientError
    from procurement.money import MoneyError, parse_yuan

    try:
        amount = parse_yuan(price)
    except MoneyError as exc:
        raise click.BadParameter(str(exc), param_hint="--price") from exc
    documents: dict[str, Path] = {}
    for spec in files:
        kind, _, path = spec.partition("=")
        if not path or not Path(path).is_file():
            raise click.BadParameter(
                f"{spec!r}: use KIND=PATH of an existing file", param_hint="--file"
            )
        documents[kind] = Path(path)
    workdir = workdir or Path(f"zhaocai-bid-lot{lot_id}")
    client = _client(url, username, password)
    try:
        if not (workdir / "state.json").exists():
            client.seal_bid(lot_id, amount, documents, workdir)
        total = sum(p.stat().st_size for p in workdir.glob("*.zcb"))
        with click.progressbar(length=total, label="uploading sealed bid") as bar:
            receipt = client.upload_bid(workdir, progress=bar.update)
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    body = receipt["receipt"]
    click.echo(
        f"submitted: bid {body['bid_id']}, receipt #{body['sequence']} at "
        f"{body['received_at']}; saved to {workdir / 'receipt.json'}"
    )


@bid.command("withdraw")
@_url
@_username
@_password
@click.option("--bid", "bid_id", type=int, required=True)
def bid_withdraw(url: str, username: str, password: str, bid_id: int) -> None:
    """Withdraw a bid before the deadline."""
    from bidding.client import ClientError

    try:
        _client(url, username, password).withdraw(bid_id)
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"bid {bid_id} withdrawn")


@main.group()
def receipt() -> None:
    """Bid receipts."""


@receipt.command("verify")
@click.argument("receipt_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The platform's public key (PEM from /.well-known/zhaocai-receipt-key.pem).",
)
@click.option("--url", default=None, help="Fetch the public key from the platform instead.")
def receipt_verify(receipt_file: Path, key_file: Path | None, url: str | None) -> None:
    """Check a receipt's signature offline; exit status 1 if it does not verify."""
    import httpx

    from bidding.receipts import ReceiptInvalid, load_public_key, verify_receipt

    if key_file is not None:
        pem = key_file.read_bytes()
    elif url is not None:
        pem = httpx.get(url.rstrip("/") + "/.well-known/zhaocai-receipt-key.pem").content
    else:
        raise click.UsageError("give --key PEM (offline) or --url")
    try:
        content = verify_receipt(receipt_file.read_bytes(), load_public_key(pem))
    except ReceiptInvalid as exc:
        click.echo(f"receipt INVALID: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"receipt valid: lot {content.lot_id}, bid {content.bid_id}, sequence "
        f"{content.sequence}, received {content.received_at}"
    )
    for item in content.files:
        click.echo(f"  {item.kind}: {item.size} bytes, SHA-256 {item.sha256}")


@main.group()
def custodian() -> None:
    """Key custodians: create a key pair, register it, release shares at openings."""


@custodian.command("keygen")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.password_option(
    "--passphrase",
    envvar="ZHAOCAI_KEY_PASSPHRASE",
    help="Protects the key file (at least 12 characters).",
)
def custodian_keygen(out: Path, passphrase: str) -> None:
    """Create a key pair in a passphrase-protected file (the private key stays here)."""
    from bidding.keys import KeyCustodyError, export_custodian_key, generate_custodian_key

    if out.exists():
        raise click.ClickException(f"{out} exists; refusing to overwrite a key file")
    try:
        data = export_custodian_key(generate_custodian_key(), passphrase)
    except KeyCustodyError as exc:
        raise click.BadParameter(str(exc), param_hint="--passphrase") from exc
    out.write_bytes(data)
    out.chmod(0o600)
    click.echo(f"key written to {out}; register it with: zhaocai custodian register")


@custodian.command("register")
@_url
@_username
@_password
@click.option(
    "--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
def custodian_register(url: str, username: str, password: str, key_file: Path) -> None:
    """Register the public key of a key file with the platform."""
    from bidding.client import ClientError

    try:
        fingerprint = _client(url, username, password).register_custodian_key(key_file)
    except (ClientError, KeyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"registered key {fingerprint[:16]}…")


@custodian.command("release")
@_url
@_username
@_password
@click.option("--lot", "lot_id", type=int, required=True)
@click.option(
    "--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option("--passphrase", envvar="ZHAOCAI_KEY_PASSPHRASE", prompt=True, hide_input=True)
def custodian_release(
    url: str, username: str, password: str, lot_id: int, key_file: Path, passphrase: str
) -> None:
    """Decrypt your share of a lot's key here and release it for the opening."""
    from bidding.client import ClientError

    try:
        result = _client(url, username, password).release_share(lot_id, key_file, passphrase)
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"share released: {result['released']} of {result['threshold']} needed")


@main.group()
def experts() -> None:
    """The expert registry."""


@experts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--valid-rows", is_flag=True, help="Import the valid rows even if others are bad.")
def experts_import(file: Path, valid_rows: bool) -> None:
    """Import experts from a CSV or XLSX file (docs/experts.md); all or nothing by default."""
    from expert_pool.registry import ImportRefused, import_experts, read_import_file
    from procurement.exceptions import ZhaocaiError
    from procurement.roles import Actor, Role

    _bind(Settings.from_env())
    operator = Actor(user_id=None, username="cli", role=Role.ADMIN, display_name="command line")
    try:
        rows = read_import_file(file.name, file.read_bytes())
        report = _run(import_experts(operator, rows, valid_rows_only=valid_rows))
    except ImportRefused as refused:
        for error in refused.report.errors:
            click.echo(f"line {error.line}: {error.message}", err=True)
        raise click.ClickException(
            f"{len(refused.report.errors)} of {refused.report.rows} rows are invalid; nothing "
            "was imported (use --valid-rows to import the others)"
        ) from refused
    except ZhaocaiError as exc:
        raise click.ClickException(str(exc)) from exc
    for error in report.errors:
        click.echo(f"line {error.line}: {error.message} (skipped)", err=True)
    click.echo(f"imported {report.imported} of {report.rows} experts")


@main.group()
def draw() -> None:
    """The verifiable expert draw."""


@draw.command("verify")
@click.option("--lot", "lot_id", type=int, required=True)
def draw_verify(lot_id: int) -> None:
    """Re-run a concluded lot's draws from snapshot and revealed seed (exit 1 if different)."""
    from expert_pool.services import verify_lot
    from procurement.exceptions import ZhaocaiError

    _bind(Settings.from_env())
    try:
        checks = _run(verify_lot(lot_id))
    except ZhaocaiError as exc:
        raise click.ClickException(str(exc)) from exc
    failed = False
    for check in checks:
        if check.result.verified:
            order = ", ".join(str(expert_id) for expert_id in check.members)
            click.echo(
                f"draw {check.number} of lot {lot_id}: VERIFIED — the same experts come out "
                f"in the same order: {order}"
            )
        else:
            failed = True
            click.echo(f"draw {check.number} of lot {lot_id}: NOT VERIFIED", err=True)
            for problem in check.result.problems:
                click.echo(f"  {problem}", err=True)
    if failed:
        sys.exit(1)
