"""What subscribers and readers see, one module per page family: unsubscribe and preferences,
subscribe with double opt-in, the archive of sent issues, and the site's root and static files.

Rules every route here keeps:
- a GET never changes anything (mail scanners and link previewers follow every link); a tracked
  link (/r/…) or the open pixel (/o/…) only records that it was fetched, judged human or not;
- a bad, altered or forged token gets a friendly 4xx page and changes nothing;
- garbage input (odd bodies, huge fields, unknown slugs) gets a 4xx page, never a 500;
- the subscribe form answers the same neutral page whatever the address's status (active,
  pending, unsubscribed, suppressed, unknown), so it cannot be used to learn who is on a list.
"""

from fastapi import APIRouter

from mailer.web.public import archive, home, subscribe, tracking, unsubscribe

router = APIRouter()
for _module in (home, unsubscribe, subscribe, archive, tracking):
    router.include_router(_module.router)
