"""Tender documents: upload, download and the secret list of who downloaded.

The purchaser uploads, logged-in suppliers download, and who downloaded stays secret
(seed 004: stop leaks of who registered).

Files stream into the object store with their SHA-256 computed on the way, so a large
document never sits whole in memory.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio

from procurement import audit
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError
from procurement.lifecycle import LotStatus
from procurement.projects import ensure_purchaser_owns, get_project
from procurement.roles import Actor, Role
from procurement.tables import DocumentDownload, Lot, TenderDocument
from storage import ObjectStore

MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
MAX_FILENAME_BYTES = 200
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")


def clean_filename(name: str) -> str:
    """A file name safe to store and to send back in Content-Disposition.

    Object keys allow 255 bytes per segment, so the name is cut by UTF-8 bytes (keeping
    the end, where the extension is), never in the middle of a character.
    """
    name = _UNSAFE_FILENAME.sub("_", name.strip()).strip(". ")
    if not name:
        raise ValidationError("the file needs a name", field="file")
    encoded = name.encode()
    if len(encoded) > MAX_FILENAME_BYTES:
        name = encoded[-MAX_FILENAME_BYTES:].decode(errors="ignore").lstrip(". ")
    return name


@dataclass
class _Counted:
    size: int = 0
    digest: Any = None


def _counting(chunks: Iterable[bytes], counted: _Counted, limit: int) -> Iterator[bytes]:
    counted.digest = hashlib.sha256()
    for chunk in chunks:
        counted.size += len(chunk)
        if counted.size > limit:
            raise ValidationError(
                "the file is larger than {mib} MiB", field="file", mib=limit // (1024 * 1024)
            )
        counted.digest.update(chunk)
        yield chunk


async def add_document(
    actor: Actor,
    project_id: int,
    *,
    filename: str,
    content_type: str,
    chunks: Iterable[bytes],
    store: ObjectStore,
    clock: Clock = SYSTEM_CLOCK,
    limit: int = MAX_DOCUMENT_BYTES,
) -> int:
    """Store one tender document for a project that has not reached its bid deadline."""
    project = await get_project(project_id)
    ensure_purchaser_owns(actor, project)
    if project.bid_deadline <= clock.now():
        raise Conflict("the bid deadline has passed; documents can no longer change")
    filename = clean_filename(filename)
    key = f"tender-documents/{project_id}/{uuid.uuid4().hex}/{filename}"
    counted = _Counted()
    await anyio.to_thread.run_sync(
        lambda: store.put(
            key,
            _counting(chunks, counted, limit),
            content_type=content_type or "application/octet-stream",
        )
    )
    if counted.size == 0:
        await anyio.to_thread.run_sync(store.delete, key)
        raise ValidationError("the file is empty", field="file")
    try:
        document = TenderDocument(
            project=project_id,
            filename=filename,
            object_key=key,
            size=counted.size,
            sha256=counted.digest.hexdigest(),
            content_type=(content_type or "application/octet-stream")[:120],
            uploaded_by=actor.user_id,
            uploaded_at=clock.now(),
        )
        await document.save()
        await audit.record(
            "document.uploaded",
            actor=actor,
            subject_type="tender_document",
            subject_id=document.id,
            payload={
                "project_id": project_id,
                "filename": filename,
                "size": counted.size,
                "sha256": document.sha256,
            },
            clock=clock,
        )
    except BaseException:
        await anyio.to_thread.run_sync(store.delete, key)
        raise
    return int(document.id)


async def list_documents(project_id: int) -> list[dict[str, Any]]:
    """The documents of a project (names, sizes, hashes: public facts)."""
    return (
        await TenderDocument.select(
            TenderDocument.id,
            TenderDocument.filename,
            TenderDocument.size,
            TenderDocument.sha256,
            TenderDocument.uploaded_at,
        )
        .where(TenderDocument.project == project_id)
        .order_by(TenderDocument.id)
    )


async def open_document(
    actor: Actor, document_id: int, *, store: ObjectStore, clock: Clock = SYSTEM_CLOCK
) -> tuple[TenderDocument, Iterator[bytes]]:
    """A logged-in user downloads a document; suppliers' downloads are recorded and audited."""
    document = await TenderDocument.objects().where(TenderDocument.id == document_id).first()
    if document is None:
        raise NotFound("no document with id {document_id}", document_id=document_id)
    project = await get_project(document.project)
    if project.published_at is None and not (
        actor.role is Role.PURCHASER and actor.organisation_id == project.purchaser
    ):
        raise NotFound("no document with id {document_id}", document_id=document_id)
    if actor.role is Role.BIDDER:
        await DocumentDownload(
            document=document_id,
            user=actor.user_id,
            organisation=actor.organisation_id,
            downloaded_at=clock.now(),
        ).save()
    await audit.record(
        "document.downloaded",
        actor=actor,
        subject_type="tender_document",
        subject_id=document_id,
        payload={"project_id": project.id},
        clock=clock,
    )
    stream = await anyio.to_thread.run_sync(lambda: store.get(document.object_key))
    return document, stream


async def list_downloads(
    actor: Actor, project_id: int, *, clock: Clock = SYSTEM_CLOCK
) -> list[dict[str, Any]]:
    """Who downloaded the documents: supervisors any time, the purchaser after the deadline.

    Suppliers never see it, so nobody learns who else may bid (seed 004).
    """
    project = await get_project(project_id)
    if actor.role is Role.SUPERVISOR:
        pass
    elif actor.role is Role.PURCHASER and actor.organisation_id == project.purchaser:
        if project.bid_deadline > clock.now():
            raise Forbidden("the list of downloads stays secret until the bid deadline")
    else:
        raise Forbidden("only the supervisor and, after the deadline, the purchaser see this")
    return (
        await DocumentDownload.select(
            DocumentDownload.document.filename.as_alias("filename"),
            DocumentDownload.organisation.name.as_alias("supplier"),
            DocumentDownload.organisation.credit_code.as_alias("credit_code"),
            DocumentDownload.user.username.as_alias("username"),
            DocumentDownload.downloaded_at,
        )
        .where(DocumentDownload.document.project == project_id)
        .order_by(DocumentDownload.downloaded_at)
    )


async def project_is_open_for_questions(project_id: int, now: Any) -> bool:
    """Whether suppliers may still ask: published and before the clarification deadline."""
    project = await get_project(project_id)
    deadline = project.clarification_deadline or project.bid_deadline
    lots = await Lot.select(Lot.status).where(Lot.project == project_id)
    return (
        project.published_at is not None
        and now < deadline
        and any(LotStatus(r["status"]) is LotStatus.PUBLISHED for r in lots)
    )
