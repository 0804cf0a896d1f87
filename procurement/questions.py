"""Questions on the tender documents and their answers as clarifications (澄清).

Askers stay anonymous to everyone but the purchaser's audit trail; answers go to all as a
change/clarification notice (GPL-R Art. 31: clarifications reach every document holder).
"""

from __future__ import annotations

from typing import Any

from procurement import audit
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.db import transaction
from procurement.documents import project_is_open_for_questions
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError
from procurement.notices import NoticeKind, publish_notice
from procurement.projects import ensure_purchaser_owns, get_project
from procurement.roles import Actor, Role
from procurement.tables import Question

MAX_QUESTION_LENGTH = 4000


async def ask_question(
    actor: Actor, project_id: int, text: str, *, clock: Clock = SYSTEM_CLOCK
) -> int:
    """A supplier asks a question before the clarification deadline."""
    if actor.role is not Role.BIDDER:
        raise Forbidden("only suppliers ask questions on tender documents")
    text = text.strip()
    if not text:
        raise ValidationError("the question is empty", field="text")
    if len(text) > MAX_QUESTION_LENGTH:
        raise ValidationError(
            "a question is limited to {most} characters", field="text", most=MAX_QUESTION_LENGTH
        )
    if not await project_is_open_for_questions(project_id, clock.now()):
        raise Conflict("questions are closed for this project")
    question = Question(project=project_id, asked_by=actor.user_id, text=text, asked_at=clock.now())
    await question.save()
    await audit.record(
        "question.asked",
        actor=actor,
        subject_type="question",
        subject_id=question.id,
        payload={"project_id": project_id},
        clock=clock,
    )
    return int(question.id)


async def answer_question(
    actor: Actor, question_id: int, answer: str, *, clock: Clock = SYSTEM_CLOCK
) -> int:
    """The purchaser answers; the answer is published to all as a clarification notice."""
    question = await Question.objects().where(Question.id == question_id).first()
    if question is None:
        raise NotFound("no question with id {question_id}", question_id=question_id)
    project = await get_project(question.project)
    ensure_purchaser_owns(actor, project)
    answer = answer.strip()
    if not answer:
        raise ValidationError("the answer is empty", field="answer")
    if question.answered_at is not None:
        raise Conflict("this question was already answered")
    async with transaction(Question._meta.db):
        notice_id = await publish_notice(
            project_id=project.id,
            kind=NoticeKind.CHANGE,
            title=f"{project.title} 澄清公告",
            title_en=f"{project.title_en or project.title} — clarification",
            body=f"问 / Question:\n{question.text}\n\n答 / Answer:\n{answer}",
            body_en=f"Question:\n{question.text}\n\nAnswer:\n{answer}",
            actor=actor,
            clock=clock,
        )
        await Question.update(
            {
                Question.answer: answer,
                Question.answered_at: clock.now(),
                Question.clarification: notice_id,
            }
        ).where(Question.id == question_id)
        await audit.record(
            "question.answered",
            actor=actor,
            subject_type="question",
            subject_id=question_id,
            payload={"notice_id": notice_id},
            clock=clock,
        )
    return notice_id


async def questions_for(actor: Actor | None, project_id: int) -> list[dict[str, Any]]:
    """Questions of a project: answered ones for everyone, all of them for the owner.

    The asker's identity is never returned.
    """
    project = await get_project(project_id)
    query = Question.select(
        Question.id, Question.text, Question.asked_at, Question.answer, Question.answered_at
    ).where(Question.project == project_id)
    owner = (
        actor is not None
        and actor.role is Role.PURCHASER
        and actor.organisation_id == project.purchaser
    )
    if not owner:
        query = query.where(Question.answered_at.is_not_null())
    return await query.order_by(Question.asked_at)
