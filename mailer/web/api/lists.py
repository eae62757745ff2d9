"""/api/v1/lists: the lists with their counts, and creating one."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mailer.web.api.routing import DB, api_router, check_text, needs
from subscribers.lists import create_list, list_lists

router = api_router()


class ListOut(BaseModel):
    slug: str
    name: str
    active: int = Field(description="active subscriptions")
    pending: int = Field(description="waiting for the person's confirmation")
    unsubscribed: int


class ListIn(BaseModel):
    slug: str = Field(min_length=1, max_length=64, examples=["weekly-briefing"])
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


@router.get("/lists", response_model=list[ListOut], summary="Every list with its counts")
def lists(session: DB) -> list[ListOut]:
    return [ListOut(**vars(s)) for s in list_lists(session)]


@router.post(
    "/lists",
    response_model=ListOut,
    status_code=201,
    summary="Create a list",
    **needs("subscribers"),
)
def post_list(body: ListIn, session: DB) -> ListOut:
    check_text(body.name, "name")
    check_text(body.description, "description")
    mlist = create_list(session, body.slug, body.name, body.description)
    session.commit()
    return ListOut(slug=mlist.slug, name=mlist.name, active=0, pending=0, unsubscribed=0)
