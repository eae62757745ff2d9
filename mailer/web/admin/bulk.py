"""Bulk actions from the subscriber search: on the rows ticked on the page or on the whole
result. The first POST shows a confirmation that says how many subscribers will change (rows that
would not change, such as those already tagged, are not counted); the second applies it and shows
the result. Both carry the search in hidden fields, so "the whole result" is evaluated again when
applied (the result page says how many actually changed). Erasure asks for the count typed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request, Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mailer.accounts import AdminUser
from mailer.engagement.erasure import erase_mailer_rows
from mailer.settings import get_settings
from mailer.web.admin.forms import DB, Admin, protected_router, render
from mailer.web.admin.search import SearchParams
from subscribers import bulk
from subscribers.errors import InvalidInput
from subscribers.lists import get_list
from subscribers.models import Subscriber

MAX_SELECTED = 1000

router = protected_router()

SearchQ = Annotated[str, Form(alias="q", max_length=200)]
SearchExpr = Annotated[str, Form(alias="expr", max_length=2000)]
SearchList = Annotated[str, Form(alias="list", max_length=64)]
SearchStatus = Annotated[str, Form(alias="status", max_length=20)]
Selected = Annotated[list[int], Form(alias="id", max_length=MAX_SELECTED)]


def _scope(
    session: Session, params: SearchParams, scope: str, selected: list[int]
) -> tuple[Select[Any], str]:
    """(SELECT of the ids acted on, words for them)."""
    if scope == "selected":
        if not selected:
            raise InvalidInput("no subscriber is ticked: tick some rows or act on all results")
        ids = select(Subscriber.id).where(Subscriber.id.in_(selected))
        return ids, f"the {len(selected)} ticked"
    wanted = params.to_search(session)
    if wanted.empty:
        return wanted.ids(), "all subscribers"
    return wanted.ids(), "every result of the search"


def _request(session: Session, action: str, target_list: str, tag: str) -> bulk.BulkRequest:
    kind = bulk.parse_action(action)
    list_id = get_list(session, target_list).id if target_list.strip() else None
    note = "changed in bulk by an admin"
    return bulk.BulkRequest(kind, list_id, tag, note).validated()


@dataclass(frozen=True)
class BulkForm:
    """What both steps of a bulk action post: the search (hidden fields), the action and whom it
    is for; the confirmation posts it again to apply it."""

    params: SearchParams
    action: str
    target_list: str
    tag: str
    scope: str
    selected: list[int]


def _bulk_form(
    q: SearchQ = "",
    expr: SearchExpr = "",
    list_slug: SearchList = "",
    status: SearchStatus = "",
    action: Annotated[str, Form(max_length=40)] = "",
    target_list: Annotated[str, Form(max_length=64)] = "",
    tag: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[str, Form(max_length=10)] = "all",
    selected: Selected = [],  # noqa: B006 (FastAPI copies defaults)
) -> BulkForm:
    params = SearchParams(q.strip(), expr.strip(), list_slug.strip(), status.strip())
    return BulkForm(params, action, target_list, tag, scope, selected)


BulkFormDep = Annotated[BulkForm, Depends(_bulk_form)]


def _resolve(session: Session, form: BulkForm) -> tuple[bulk.BulkRequest, Select[Any], str]:
    """(the checked request, SELECT of the ids acted on, words for them)."""
    wanted = _request(session, form.action, form.target_list, form.tag)
    ids, who = _scope(session, form.params, form.scope, form.selected)
    return wanted, ids, who


@router.post("/subscribers/bulk")
def confirm_bulk(request: Request, session: DB, admin: Admin, form: BulkFormDep) -> Response:
    wanted, ids, who = _resolve(session, form)
    n = bulk.changing(session, ids, wanted)
    return render(
        request,
        "bulk_confirm.html.j2",
        {
            "title": "Confirm a bulk action",
            "p": form.params,
            "action": wanted.action.value,
            "description": bulk.DESCRIPTIONS[wanted.action],
            "target_list": form.target_list,
            "tag": wanted.tag,
            "scope": form.scope,
            "selected": form.selected,
            "who": who,
            "count": n,
            "typed": wanted.action is bulk.BulkAction.FORGET,
        },
        admin=admin,
        active="subscribers",
    )


@router.post("/subscribers/bulk/apply")
def apply_bulk(
    request: Request,
    session: DB,
    admin: Admin,
    form: BulkFormDep,
    expected: Annotated[int, Form(ge=0)] = 0,
    typed: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    wanted, ids, who = _resolve(session, form)
    if wanted.action is bulk.BulkAction.FORGET and typed.strip() != str(expected):
        raise InvalidInput(
            f"to erase, type the number of subscribers ({expected}) in the box; nothing was erased"
        )
    changed = bulk.apply(
        session,
        ids,
        _with_admin(wanted, admin),
        get_settings().secret(),
        before_forget=erase_mailer_rows,
    )
    session.commit()
    return render(
        request,
        "bulk_result.html.j2",
        {
            "title": "Bulk action done",
            "p": form.params,
            "action": wanted.action.value,
            "description": bulk.DESCRIPTIONS[wanted.action],
            "target_list": form.target_list,
            "tag": wanted.tag,
            "who": who,
            "expected": expected,
            "changed": changed,
        },
        admin=admin,
        active="subscribers",
    )


def _with_admin(wanted: bulk.BulkRequest, admin: AdminUser) -> bulk.BulkRequest:
    reason = f"{wanted.action.value} in bulk by an admin ({admin.email})"
    return bulk.BulkRequest(wanted.action, wanted.list_id, wanted.tag, reason)
