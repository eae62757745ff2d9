"""/api/v1/lists: the lists with their counts and visibility, creating one, and changing one's
name, description or visibility (PATCH)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from mailer.web.api.routing import DB, Slug, api_router, check_text, needs
from subscribers.lists import create_list, get_list, list_lists, update_list

router = api_router()

_PRIVATE = (
    "A private list (a client-only briefing) has no public subscribe form (/subscribe/SLUG "
    "answers 404 as for an unknown list), nothing sent only to it is in the public archive, and "
    "its emails link to no web edition (the PDF edition is attached)"
)


class ListOut(BaseModel):
    slug: str
    name: str
    active: int = Field(description="active subscriptions, suppressed people's included")
    pending: int = Field(description="waiting for the person's confirmation")
    unsubscribed: int
    private: bool = Field(description=_PRIVATE)
    mailable: int = Field(
        description="active subscriptions a send to the whole list reaches: the person is "
        "active and not suppressed (hard bounce, complaint, erasure); `mailer send` and the "
        "admin's send form count the same recipients"
    )


class ListIn(BaseModel):
    slug: str = Field(min_length=1, max_length=64, examples=["weekly-briefing"])
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    private: StrictBool = Field(default=False, description=_PRIVATE)  # never "yes"


class ListPatch(BaseModel):
    """The fields to change; a field left out stays as it is. The slug never changes (it is in
    List-Id headers already sent and in subscribe links)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    private: StrictBool | None = Field(default=None, description=_PRIVATE)


@router.get("/lists", response_model=list[ListOut], summary="Every list with its counts")
def lists(session: DB) -> list[ListOut]:
    return [ListOut(**vars(s)) for s in list_lists(session)]


@router.get("/lists/{slug}", response_model=ListOut, summary="One list with its counts")
def one_list(slug: Slug, session: DB) -> ListOut:
    """The list as `GET /lists` gives it; a 404 names the known lists."""
    mlist = get_list(session, slug)
    return next(ListOut(**vars(s)) for s in list_lists(session) if s.slug == mlist.slug)


@router.post(
    "/lists",
    response_model=ListOut,
    status_code=201,
    summary="Create a list",
    **needs("subscribers"),
)
def post_list(body: ListIn, session: DB) -> ListOut:
    """The name is one line of visible text (no line breaks, control or invisible characters),
    at most 200 characters; a 422 names `name` and says what to do."""
    check_text(body.description, "description")
    mlist = create_list(session, body.slug, body.name, body.description, private=body.private)
    session.commit()
    return ListOut(
        slug=mlist.slug,
        name=mlist.name,
        active=0,
        pending=0,
        unsubscribed=0,
        private=mlist.private,
        mailable=0,
    )


@router.patch(
    "/lists/{slug}",
    response_model=ListOut,
    summary="Rename, describe, or make a list private or public",
    **needs("subscribers"),
)
def patch_list(slug: Slug, body: ListPatch, session: DB) -> ListOut:
    """Changes only the fields given (`{"private": true}` closes the list's subscribe form at
    once and takes what was sent only to it out of the public archive); answers the list with
    its counts. A body that changes nothing (`{}`) is a 422 naming the fields that may be
    given."""
    if body.description is not None:
        check_text(body.description, "description")
    mlist = update_list(
        session, slug, name=body.name, description=body.description, private=body.private
    )
    session.commit()
    return next(ListOut(**vars(s)) for s in list_lists(session) if s.slug == mlist.slug)
