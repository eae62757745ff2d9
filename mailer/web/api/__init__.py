"""The JSON API under /api/v1, for scripts and other systems, one module per noun: lists,
subscribers, segments, issues, campaigns (what they share is in routing.py). Bearer tokens
(`mailer admin create-token NAME`); every response is a documented Pydantic model, so
/openapi.json describes it.
"""

from fastapi import APIRouter

from mailer.web.api import campaigns, engagement, issues, lists, segments, subscribers

router = APIRouter()
# engagement before subscribers: /subscribers/{email}/history must match before /{email}.
for _noun in (lists, engagement, subscribers, segments, issues, campaigns):
    router.include_router(_noun.router)
