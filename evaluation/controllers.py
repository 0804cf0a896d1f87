"""Evaluation routes: JSON API and pages.

The scheme (purchaser), the scoring workspace (experts), progress (supervisor), the report,
the award and each bidder's own result.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Redirect, Stream, Template

from bidding.runtime import current
from bidding.services import file_kind_names
from evaluation import services
from evaluation.exceptions import SchemeError
from evaluation.scheme_io import criteria_lines, pass_fail_lines, scheme_lines
from evaluation.scoring import ExclusionReason
from procurement.exceptions import Forbidden, NotFound, ValidationError, ZhaocaiError
from procurement.lifecycle import LotStatus
from procurement.money import MoneyError, parse_yuan
from procurement.projects import ensure_purchaser_owns, get_lot, get_project, owns
from procurement.roles import Actor, Role
from procurement.web import (
    PUBLIC,
    Link,
    Panel,
    add_lot_facts,
    add_lot_links,
    add_workspace_panel,
    error_text,
    form_text,
    language_of,
    parse_int,
    render,
    require_actor,
    roles,
    status_for,
    translator_of,
)

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PURCHASER = roles(Role.PURCHASER)
EXPERT = roles(Role.EXPERT)
BIDDER = roles(Role.BIDDER)
OVERSIGHT = roles(Role.PURCHASER, Role.SUPERVISOR, Role.EXPERT)


def _json_object(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("the request body must be a JSON object")
    return data


def _bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "pass", "yes"}:
        return True
    if text in {"false", "0", "fail", "no"}:
        return False
    raise ValidationError("{name} must be pass or fail", field=field, name=field)


def _int(value: object, field: str) -> int:
    return parse_int(str(value), field, minimum=1)  # str(True) is no whole number either


async def _may_oversee(actor: Actor, lot_id: int) -> None:
    """Supervisors, the owning purchaser and the lot's committee members may watch."""
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    seated = await services.is_member(actor, lot_id)
    if services.may_oversee(actor, purchaser_id=project.purchaser, seated=seated):
        return
    if actor.role is Role.EXPERT:
        raise NotFound("you are not on the evaluation committee of this lot")
    raise Forbidden("this project belongs to another purchasing unit")


def exclusion_labels(language: str) -> dict[str, str]:
    """Why a bid was not scored, by reason code, in ``language`` (GPL Art. 36)."""
    return {reason.value: reason.label(language) for reason in ExclusionReason}


class EvaluationApiController(Controller):
    """The evaluation JSON API."""

    path = "/api/evaluation/lots/{lot_id:int}"

    @post("/scheme", opt=PURCHASER, name="api_scheme_set", status_code=200)
    async def set_scheme(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: JSONBody[Any]
    ) -> dict[str, Any]:
        """Set the scheme of a draft lot; every problem is listed at once."""
        return await services.set_scheme(require_actor(request), lot_id, _json_object(data))

    @get("/scheme", opt=PUBLIC, name="api_scheme")
    async def scheme(self, lot_id: FromPath[int]) -> dict[str, Any]:
        """The published scheme."""
        return await services.public_scheme(lot_id)

    @post("/verdicts", opt=EXPERT, name="api_verdict", status_code=200)
    async def verdict(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: JSONBody[Any]
    ) -> dict[str, Any]:
        """Record one pass/fail verdict: ``{bidder_id, criterion, passed, reason}``."""
        body = _json_object(data)
        actor = require_actor(request)
        await services.record_verdict(
            actor,
            lot_id,
            _int(body.get("bidder_id"), "bidder_id"),
            str(body.get("criterion", "")),
            passed=_bool(body.get("passed"), "passed"),
            reason=str(body.get("reason", "")),
        )
        return await services.checklist(actor, lot_id)

    @post("/verdicts/submit", opt=EXPERT, name="api_verdicts_submit", status_code=200)
    async def submit_verdicts(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> dict[str, Any]:
        """Submit the member's verdicts (final)."""
        return {"outcome": await services.submit_verdicts(require_actor(request), lot_id)}

    @post("/scores", opt=EXPERT, name="api_score", status_code=200)
    async def score(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: JSONBody[Any]
    ) -> dict[str, Any]:
        """Record one score: ``{bidder_id, criterion, points, comment}``."""
        body = _json_object(data)
        actor = require_actor(request)
        await services.record_score(
            actor,
            lot_id,
            _int(body.get("bidder_id"), "bidder_id"),
            str(body.get("criterion", "")),
            body.get("points"),
            comment=str(body.get("comment", "")),
        )
        return await services.checklist(actor, lot_id)

    @post("/scores/submit", opt=EXPERT, name="api_scores_submit", status_code=200)
    async def submit_scores(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> dict[str, Any]:
        """Submit the member's scores (final)."""
        return {"stage": await services.submit_scores(require_actor(request), lot_id)}

    @get("/checklist", opt=EXPERT, name="api_checklist")
    async def checklist(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> dict[str, Any]:
        """What the member still has to do."""
        return await services.checklist(require_actor(request), lot_id)

    @get("/progress", opt=OVERSIGHT, name="api_progress")
    async def progress(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> dict[str, Any]:
        """Each member's progress as counts (no scores)."""
        await _may_oversee(require_actor(request), lot_id)
        return await services.progress(lot_id)

    @get("/reviews", opt=OVERSIGHT, name="api_reviews")
    async def reviews(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> list[dict[str, Any]]:
        """Flagged items and their resolutions."""
        await _may_oversee(require_actor(request), lot_id)
        return await services.reviews(lot_id)

    @post("/reviews/{review_id:int}", opt=EXPERT, name="api_review_resolve", status_code=200)
    async def resolve(
        self,
        request: Request[Any, Any, Any],
        lot_id: FromPath[int],
        review_id: FromPath[int],
        data: JSONBody[Any],
    ) -> dict[str, Any]:
        """The leader resolves a flagged item: ``{resolution, explanation}``."""
        body = _json_object(data)
        stage = await services.resolve_review(
            require_actor(request),
            lot_id,
            review_id,
            resolution=str(body.get("resolution", "")),
            explanation=str(body.get("explanation", "")),
        )
        return {"stage": stage}

    @post("/corrections", opt=EXPERT, name="api_correction", status_code=200)
    async def correct(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: JSONBody[Any]
    ) -> dict[str, Any]:
        """The leader corrects a submitted score.

        Body: ``{seat_id, bidder_id, criterion, points, reason, note}``.
        """
        body = _json_object(data)
        stage = await services.correct_score(
            require_actor(request),
            lot_id,
            seat_id=_int(body.get("seat_id"), "seat_id"),
            bidder_id=_int(body.get("bidder_id"), "bidder_id"),
            criterion=str(body.get("criterion", "")),
            points=body.get("points"),
            reason=str(body.get("reason", "")),
            note=str(body.get("note", "")),
        )
        return {"stage": stage}

    @post("/sign", opt=EXPERT, name="api_sign", status_code=200)
    async def sign(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> dict[str, Any]:
        """Sign the evaluation report."""
        return {"stage": await services.sign_report(require_actor(request), lot_id)}

    @post("/award", opt=PURCHASER, name="api_award", status_code=200)
    async def award(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: JSONBody[Any]
    ) -> dict[str, Any]:
        """Confirm the award: ``{bidder_id?, deviation_reason?, contract_amount?}``."""
        body = _json_object(data)
        bidder = body.get("bidder_id")
        notice = await services.confirm_award(
            require_actor(request),
            lot_id,
            bidder_id=None if bidder in (None, "") else _int(bidder, "bidder_id"),
            deviation_reason=str(body.get("deviation_reason", "")),
            contract_amount=_amount(body.get("contract_amount")),
        )
        return {"notice_id": notice}

    @post("/explanation", opt=BIDDER, name="api_low_price_explanation", status_code=200)
    async def explain(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: JSONBody[Any]
    ) -> dict[str, Any]:
        """The bidder's written explanation of a flagged price: ``{explanation}``."""
        body = _json_object(data)
        await services.explain_low_price(
            require_actor(request), lot_id, str(body.get("explanation", ""))
        )
        return {"status": "received"}

    @post("/reviews/{review_id:int}/request", opt=EXPERT, name="api_review_request")
    async def request_explanation(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], review_id: FromPath[int]
    ) -> dict[str, Any]:
        """The leader asks the bidder of a flagged price for a written explanation."""
        await services.request_explanation(require_actor(request), lot_id, review_id)
        return {"status": "requested"}

    @get("/my-result", opt=BIDDER, name="api_my_result")
    async def my_result(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> dict[str, Any]:
        """The bidder's own scores and rank, after the award."""
        return await services.my_result(require_actor(request), lot_id)


def _amount(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return parse_yuan(str(value))
    except MoneyError as exc:  # the amount's own template and values, translated as such
        values: dict[str, Any] = exc.params
        raise ValidationError(exc.template, field="contract_amount", **values) from None


class SchemePagesController(Controller):
    """The purchaser's scheme form and the public scheme page."""

    @get("/purchaser/lots/{lot_id:int}/scheme", opt=PURCHASER, name="scheme_form")
    async def form(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
        """The scheme form, filled with the stored scheme or a starting example."""
        lot = await get_lot(lot_id)
        project = await get_project(lot.project)
        ensure_purchaser_owns(require_actor(request), project)
        stored = await services.scheme_json(lot_id) or _EXAMPLE
        return render(
            request,
            "evaluation/scheme_form.html",
            {"lot": lot, "project": project, "form": {**stored, **scheme_lines(stored)}},
        )

    @post("/purchaser/lots/{lot_id:int}/scheme", opt=PURCHASER, name="scheme_save")
    async def save(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: FormData
    ) -> Template | Redirect:
        """Save; errors re-show the form with every problem."""
        lot = await get_lot(lot_id)
        project = await get_project(lot.project)
        body = {
            "method": form_text(data, "method"),
            "third_tie_break": form_text(data, "third_tie_break", "none"),
            "sme_reserved": form_text(data, "sme_reserved") == "on",
            "small_or_micro_deduction": form_text(data, "small_or_micro_deduction", "0"),
            "consortium_deduction": form_text(data, "consortium_deduction", "0"),
            "qualification": pass_fail_lines(form_text(data, "qualification")),
            "compliance": pass_fail_lines(form_text(data, "compliance")),
            "criteria": criteria_lines(form_text(data, "criteria")),
        }
        try:
            await services.set_scheme(require_actor(request), lot_id, body)
        except ZhaocaiError as exc:
            problems = (
                exc.localized_problems(translator_of(request).gettext(language_of(request)))
                if isinstance(exc, SchemeError)
                else (error_text(request, exc),)
            )
            form = {**body, **{k: form_text(data, k) for k in ("qualification", "compliance")}}
            form["criteria"] = form_text(data, "criteria")
            return render(
                request,
                "evaluation/scheme_form.html",
                {"lot": lot, "project": project, "form": form, "problems": problems},
                status_code=status_for(exc),
            )
        return Redirect(f"/purchaser/projects/{project.id}?done=scheme")

    @get("/lots/{lot_id:int}/scheme", opt=PUBLIC, name="scheme_page")
    async def public(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
        """The scheme as published with the tender documents."""
        lot = await get_lot(lot_id)
        project = await get_project(lot.project)
        scheme = await services.public_scheme(lot_id)
        return render(
            request, "evaluation/scheme.html", {"lot": lot, "project": project, "scheme": scheme}
        )


_EXAMPLE: dict[str, Any] = {
    "method": "comprehensive_scoring",
    "third_tie_break": "technical",
    "sme_reserved": False,
    "small_or_micro_deduction": "10",
    "consortium_deduction": "4",
    "qualification": [{"id": "Q1", "description": "营业执照 Business licence"}],
    "compliance": [{"id": "C1", "description": "实质性响应 Substantive response"}],
    "criteria": [
        {"id": "P", "group": "price", "max_points": "30", "description": "价格 Price"},
        {"id": "T1", "group": "technical", "max_points": "40", "description": "技术方案"},
        {"id": "T2", "group": "technical", "max_points": "20", "description": "售后服务"},
        {
            "id": "B1",
            "group": "commercial",
            "max_points": "10",
            "description": "业绩 Track record",
            "objective": True,
        },
    ],
}


class WorkspacePagesController(Controller):
    """The expert's scoring workspace, the report, progress and award pages."""

    @get("/expert/evaluations", opt=EXPERT, name="expert_evaluations")
    async def evaluations(self, request: Request[Any, Any, Any]) -> Template:
        """The lots this expert sits on, with links to their workspaces and reports."""
        lots = await services.expert_lots(require_actor(request))
        ready = await services.lots_with_report([int(row["lot_id"]) for row in lots])
        for row in lots:  # the report link only once the report exists
            row["report_ready"] = int(row["lot_id"]) in ready
        return render(request, "evaluation/evaluations.html", {"lots": lots})

    @get("/expert/lots/{lot_id:int}", opt=EXPERT, name="expert_workspace")
    async def workspace(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
        """Bids, documents, verdicts, scores and the checklist of what is left."""
        actor = require_actor(request)
        checklist = await services.checklist(actor, lot_id)
        lot = await get_lot(lot_id)
        project = await get_project(lot.project)
        verdicts = await services.committee_verdicts(lot_id)
        bids = await services.opened_bids(lot_id)
        for bid in bids:
            failed = (verdicts or {}).get(int(bid["bidder"]))
            bid["scorable"] = failed is not None and not any(failed.values())
            bid["failed"] = failed
        return render(
            request,
            "evaluation/workspace.html",
            {
                "lot": lot,
                "project": project,
                "scheme": await services.scheme_of(lot_id),
                "bids": bids,
                "sheet": await services.my_sheet(actor, lot_id),
                "checklist": checklist,
                "progress": await services.progress(lot_id),
                "error": request.query_params.get("error", ""),
                "kind_names": file_kind_names(language_of(request)),
            },
        )

    @post("/expert/lots/{lot_id:int}/bidders/{bidder_id:int}", opt=EXPERT, name="expert_save")
    async def save(
        self,
        request: Request[Any, Any, Any],
        lot_id: FromPath[int],
        bidder_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        """Save one bid's verdicts or scores from the workspace form."""
        actor = require_actor(request)
        scheme = await services.scheme_of(lot_id)
        error = ""
        try:
            for c in (*scheme.qualification, *scheme.compliance):
                choice = form_text(data, f"v_{c.id}")
                if choice:
                    await services.record_verdict(
                        actor,
                        lot_id,
                        bidder_id,
                        c.id,
                        passed=_bool(choice, c.id),
                        reason=form_text(data, f"r_{c.id}"),
                    )
            for sc in scheme.expert_criteria:
                points = form_text(data, f"s_{sc.id}")
                if points:
                    await services.record_score(
                        actor,
                        lot_id,
                        bidder_id,
                        sc.id,
                        points,
                        comment=form_text(data, f"c_{sc.id}"),
                    )
        except ZhaocaiError as exc:
            error = error_text(request, exc)
        return _back(lot_id, error, f"bid-{bidder_id}")

    @post("/expert/lots/{lot_id:int}/submit/{what:str}", opt=EXPERT, name="expert_submit")
    async def submit(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], what: FromPath[str]
    ) -> Redirect:
        """Submit the verdicts or the scores, or sign the report."""
        actor = require_actor(request)
        actions = {
            "verdicts": services.submit_verdicts,
            "scores": services.submit_scores,
            "sign": services.sign_report,
        }
        if what not in actions:
            raise ValidationError("submit verdicts, scores or sign")
        try:
            await actions[what](actor, lot_id)
        except ZhaocaiError as exc:
            if what == "sign":
                return Redirect(
                    f"/lots/{lot_id}/evaluation/report?error={quote(error_text(request, exc))}"
                )
            return _back(lot_id, error_text(request, exc), "checklist")
        if what == "sign":
            return Redirect(f"/lots/{lot_id}/evaluation/report")
        return _back(lot_id, "", "checklist")

    @post("/expert/lots/{lot_id:int}/reviews/{review_id:int}", opt=EXPERT, name="expert_review")
    async def review(
        self,
        request: Request[Any, Any, Any],
        lot_id: FromPath[int],
        review_id: FromPath[int],
        data: FormData,
    ) -> Redirect:
        """The leader resolves a flagged item from the report page."""
        try:
            await services.resolve_review(
                require_actor(request),
                lot_id,
                review_id,
                resolution=form_text(data, "resolution"),
                explanation=form_text(data, "explanation"),
            )
        except ZhaocaiError as exc:
            return Redirect(
                f"/lots/{lot_id}/evaluation/report?error={quote(error_text(request, exc))}"
            )
        return Redirect(f"/lots/{lot_id}/evaluation/report")

    @post(
        "/expert/lots/{lot_id:int}/reviews/{review_id:int}/request",
        opt=EXPERT,
        name="expert_review_request",
    )
    async def request_explanation(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], review_id: FromPath[int]
    ) -> Redirect:
        """The leader asks the bidder of a flagged price to explain it, from the report page."""
        try:
            await services.request_explanation(require_actor(request), lot_id, review_id)
        except ZhaocaiError as exc:
            return Redirect(
                f"/lots/{lot_id}/evaluation/report?error={quote(error_text(request, exc))}"
            )
        return Redirect(f"/lots/{lot_id}/evaluation/report#review-{review_id}")

    @get("/expert/lots/{lot_id:int}/files/{file_id:int}", opt=EXPERT, name="expert_document")
    async def document(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], file_id: FromPath[int]
    ) -> Stream:
        """A decrypted bid document, shown in the page (``?view=1``) or downloaded."""
        runtime = current()
        row, chunks = await services.open_document(
            require_actor(request), lot_id, file_id, store=runtime.store, master=runtime.master_key
        )
        inline = request.query_params.get("view") == "1"
        name = f"bid-{row.bid}-{row.kind}.pdf"
        return Stream(
            chunks,
            media_type="application/pdf" if inline else "application/octet-stream",
            headers={
                "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get("/lots/{lot_id:int}/evaluation/report", opt=OVERSIGHT, name="evaluation_report")
    async def report(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
        """The evaluation report (评标报告), printable, in the page's language."""
        actor = require_actor(request)
        await _may_oversee(actor, lot_id)
        data = await services.report(lot_id)
        me = next((s for s in data["committee"] if s["user"] == actor.user_id), None)
        gettext = translator_of(request).gettext(language_of(request))
        for item in data["reviews"]:
            item["detail"] = services.review_detail(item, gettext)
        return render(
            request,
            "evaluation/report.html",
            {
                **data,
                "me": me,
                "error": request.query_params.get("error", ""),
                "exclusion_labels": exclusion_labels(language_of(request)),
            },
        )

    @get("/lots/{lot_id:int}/evaluation/progress", opt=OVERSIGHT, name="evaluation_progress")
    async def progress(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
        """Live progress of the members (counts only), refreshed by the page."""
        await _may_oversee(require_actor(request), lot_id)
        lot = await get_lot(lot_id)
        return render(
            request,
            "evaluation/progress.html",
            {"lot": lot, "progress": await services.progress(lot_id)},
        )

    @get("/supplier/lots/{lot_id:int}/result", opt=BIDDER, name="bidder_result")
    async def bidder_result(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> Template:
        """The bidder's own scores and rank, published with the award (GPL-R Art. 43).

        Criteria are named as the published scheme describes them, and an exclusion is
        told in the page's language from its reason, criteria and limit (GPL Art. 36).
        """
        result = await services.my_result(require_actor(request), lot_id)
        lot = await get_lot(lot_id)
        exclusion = result.get("exclusion") or {}
        limit = exclusion.get("limit")
        return render(
            request,
            "evaluation/my_result.html",
            {
                "lot": lot,
                "project": await get_project(lot.project),
                "r": result,
                "criterion_names": await services.criterion_descriptions(lot_id),
                "exclusion_labels": exclusion_labels(language_of(request)),
                "exclusion_limit": f"{Decimal(limit):,.2f}" if limit else "",
            },
        )

    @post("/purchaser/lots/{lot_id:int}/award", opt=PURCHASER, name="award_confirm")
    async def award(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: FormData
    ) -> Redirect:
        """Confirm the award from the report page."""
        bidder = form_text(data, "bidder_id")
        try:
            notice = await services.confirm_award(
                require_actor(request),
                lot_id,
                bidder_id=_int(bidder, "bidder_id") if bidder else None,
                deviation_reason=form_text(data, "deviation_reason"),
                contract_amount=_amount(form_text(data, "contract_amount")),
            )
        except ZhaocaiError as exc:
            return Redirect(
                f"/lots/{lot_id}/evaluation/report?error={quote(error_text(request, exc))}"
            )
        return Redirect(f"/notices/{notice}")


def _report_with_error(
    request: Request[Any, Any, Any], lot_id: int, error: ZhaocaiError
) -> Redirect:
    """Back to the evaluation report, which shows why the action was refused."""
    return Redirect(f"/lots/{lot_id}/evaluation/report?error={quote(error_text(request, error))}")


def _back(lot_id: int, error: str, anchor: str) -> Redirect:
    query = f"?error={quote(error)}" if error else ""
    return Redirect(f"/expert/lots/{lot_id}{query}#{anchor}")


async def lot_facts(rows: list[dict[str, Any]], actor: Actor | None) -> None:
    """What :func:`lot_links` needs to know of a page's lots, one query per fact.

    ``scheme_set`` (the lot has a scoring scheme), ``report_ready`` (the evaluation report
    exists), ``viewer_seated`` (the viewer sits on the lot's committee) and ``viewer_bid``
    (the viewer's organisation's bid is in the lot's opening record).
    """
    ids = [int(row["id"]) for row in rows if row.get("id") is not None]
    schemes = await services.lots_with_scheme(ids)
    watching = actor is not None and actor.role in {Role.SUPERVISOR, Role.PURCHASER}
    reports = await services.lots_with_report(ids) if watching else set()
    seated = await services.seated_lots(actor, ids)
    bid_on = await services.lots_bid_on(actor, ids)
    for row in rows:
        lot_id = int(row.get("id") or 0)
        row["scheme_set"] = lot_id in schemes
        row["report_ready"] = lot_id in reports
        row["viewer_seated"] = lot_id in seated
        row["viewer_bid"] = lot_id in bid_on


def lot_links(lot: Any, actor: Actor | None) -> list[Link]:
    """Links on lot rows: the scheme (its form for drafts), the workspace, progress, report.

    Each is offered only where its page opens for the viewer, by the rule its handler
    applies (the facts come from :func:`lot_facts`; a missing fact hides the link).
    """
    status = lot.get("status")
    lot_id = lot.get("id")
    if status is None or lot_id is None:
        return []
    role = actor.role if actor is not None else None
    if status == LotStatus.DRAFT:
        if owns(actor, lot.get("purchaser_id")):  # the form's rule: ensure_purchaser_owns
            return [Link("Scoring scheme", f"/purchaser/lots/{lot_id}/scheme")]
        return []
    links = []
    scheme_set = bool(lot.get("scheme_set"))
    if services.scheme_public(status, scheme_set=scheme_set):
        links.append(Link("Scoring scheme", f"/lots/{lot_id}/scheme"))
    seated = bool(lot.get("viewer_seated"))
    watches = role in {Role.SUPERVISOR, Role.PURCHASER} and services.may_oversee(
        actor, purchaser_id=lot.get("purchaser_id"), seated=seated
    )
    if status in services.WORK_STATES:
        if role is Role.EXPERT and seated:
            links.append(Link("Scoring workspace", f"/expert/lots/{lot_id}"))
        if watches and scheme_set:
            links.append(Link("Evaluation progress", f"/lots/{lot_id}/evaluation/progress"))
    if watches and lot.get("report_ready"):
        links.append(Link("Evaluation report", f"/lots/{lot_id}/evaluation/report"))
    if role is Role.BIDDER and services.result_published(status) and lot.get("viewer_bid"):
        links.append(Link("My scores", f"/supplier/lots/{lot_id}/result"))
    return links


add_lot_facts(lot_facts)
add_lot_links(lot_links)
add_workspace_panel(Role.EXPERT.value, Panel("evaluation/_my_evaluations_panel.html"))

ROUTE_HANDLERS = [EvaluationApiController, SchemePagesController, WorkspacePagesController]
