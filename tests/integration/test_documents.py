"""Tender documents on S3: upload, download, the secret download list, Q&A."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.clock import FixedClock
from procurement.documents import list_downloads
from procurement.exceptions import Forbidden
from procurement.roles import Role
from procurement.tables import DocumentDownload, Notice, TenderDocument
from tests.factories import actor, csrf, local, login, published_project

pytestmark = pytest.mark.integration


async def upload(
    client: AsyncTestClient[Litestar], project_id: int, name: str, content: bytes
) -> int:
    response = await client.post(
        f"/purchaser/projects/{project_id}/documents",
        data=csrf(client),
        files={"file": (name, content, "application/pdf")},
        follow_redirects=False,
    )
    return response.status_code


async def test_document_round_trip_through_s3_is_recorded_and_secret(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    project_id = await published_project(purchaser)
    content = b"%PDF-1.4 tender documents " + bytes(range(256)) * 4096
    await login(client, purchaser.username)
    assert await upload(client, project_id, "招标文件.pdf", content) == 302
    document = await TenderDocument.objects().first()
    assert document is not None
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    page = await client.get(f"/purchaser/projects/{project_id}")
    assert "投标截止前保密" in page.text
    await client.post("/logout", data=csrf(client))

    await login(client, supplier.username)
    download = await client.get(f"/documents/{document.id}/download")
    assert download.status_code == 200
    assert download.content == content
    assert "filename*=UTF-8''%E6%8B%9B" in download.headers["content-disposition"]
    assert await DocumentDownload.count() == 1
    with pytest.raises(Forbidden):
        await list_downloads(supplier, project_id)
    with pytest.raises(Forbidden, match="secret until the bid deadline"):
        await list_downloads(purchaser, project_id)
    supervisor = await actor(Role.SUPERVISOR)
    rows = await list_downloads(supervisor, project_id)
    assert [r["username"] for r in rows] == [supplier.username]
    project_deadline = local(30)
    after = FixedClock(project_deadline + timedelta(days=1))
    assert len(await list_downloads(purchaser, project_id, clock=after)) == 1


async def test_empty_upload_is_refused_and_leaves_nothing(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser)
    await login(client, purchaser.username)
    assert await upload(client, project_id, "empty.pdf", b"") == 400
    assert await TenderDocument.count() == 0
    store = client.app.state.object_store
    keys = [info.key for info in store.list_objects(f"tender-documents/{project_id}/")]
    assert not [key for key in keys if key.endswith("/empty.pdf")]


async def test_oversize_upload_is_refused(client: AsyncTestClient[Litestar]) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser)
    await login(client, purchaser.username)
    too_big = b"x" * (211 * 1024 * 1024)
    assert await upload(client, project_id, "big.pdf", too_big) == 413
    assert await TenderDocument.count() == 0


async def test_missing_file_field_is_a_clear_error(client: AsyncTestClient[Litestar]) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser)
    await login(client, purchaser.username)
    response = await client.post(
        f"/purchaser/projects/{project_id}/documents",
        data=csrf(client),
        files={"other": ("a.txt", b"a")},
    )
    assert response.status_code == 400
    assert "请选择文件" in response.text  # the message in the page's language


async def test_unknown_document_is_not_found(client: AsyncTestClient[Litestar]) -> None:
    supplier = await actor(Role.BIDDER)
    await login(client, supplier.username)
    assert (await client.get("/documents/999999/download")).status_code == 404


async def test_questions_are_answered_publicly_without_naming_the_asker(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    project_id = await published_project(purchaser)
    await login(client, supplier.username)
    asked = await client.post(
        f"/projects/{project_id}/questions",
        data={"text": "交货期能否延长？", **csrf(client)},
        follow_redirects=False,
    )
    assert asked.status_code == 302
    public = await client.get(f"/projects/{project_id}")
    assert "交货期能否延长" not in public.text  # unanswered questions are not public
    await client.post("/logout", data=csrf(client))
    await login(client, purchaser.username)
    page = await client.get(f"/purchaser/projects/{project_id}")
    question_id = int(page.text.split("/purchaser/questions/")[1].split("/")[0])
    answered = await client.post(
        f"/purchaser/questions/{question_id}/answer",
        data={"answer": "不可以。", **csrf(client)},
        follow_redirects=False,
    )
    assert answered.status_code == 302
    notice = await Notice.objects().where(Notice.kind == "change").first()
    assert notice is not None
    assert "交货期能否延长" in notice.body
    assert supplier.username not in notice.body
    again = await client.post(
        f"/purchaser/questions/{question_id}/answer", data={"answer": "再答", **csrf(client)}
    )
    assert again.status_code == 409
