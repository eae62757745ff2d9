"""The admin area under /admin: server-rendered pages for editors, one module per page family
(as warehouse's manage/views/): login, home (dashboard), lists, imports, search (all subscribers),
bulk (bulk actions), exports (CSV and GDPR downloads), subscribers (one person), segments, issues,
campaigns (with campaign_report), inquiries, bounces, suppressions, users, tokens, health
(settings and checks); what they share is in forms.py.

Every page but the login form requires a session (see mailer/web/auth.py); anonymous requests are
redirected to the login page. Every POST must carry the session's CSRF token (403 otherwise, before
anything is read or changed). Pages reuse the domain functions the CLI uses, so the web and the
command line give the same answers and the same error messages: lists and subscribers
(subscribers.*), CSV import (`import_csv_file`, the same report as the CLI), segments, issues
(import, preview, test send), campaigns (mailer.sending.campaigns; started after the commit through
mailer/sending/dispatch.py, in a background thread when there is no broker).
"""

from fastapi import APIRouter

from mailer.web.admin import (
    bounces,
    bulk,
    campaigns,
    engagement,
    exports,
    health,
    home,
    imports,
    inquiries,
    issues,
    lists,
    login,
    search,
    segments,
    subscribers,
    suppressions,
    tokens,
    users,
)
from mailer.web.admin.forms import AdminRoute

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
router.include_router(login.public)
for _family in (
    login,
    home,
    lists,
    imports,
    # search, bulk and exports before subscribers: their fixed paths (/subscribers/count…)
    # must match before /subscribers/{subscriber_id}.
    search,
    bulk,
    exports,
    subscribers,
    segments,
    issues,
    campaigns,
    engagement,
    inquiries,
    bounces,
    suppressions,
    users,
    tokens,
    health,
):
    router.include_router(_family.router)
