"""The admin's issue pages show a derived title (an issue that gives none) with its date in the
issue's language, as the CLI does: a Spanish briefing uploaded through the admin is listed as
`Panorama Seguridad — 9 de abril de 2025`; the English fixture keeps `9 April 2025`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from mailer.settings import Settings
from tests.conftest import BRIEFING
from tests.web.test_admin import Editor, signed_in, text_of

ISSUES = Path(__file__).resolve().parent.parent / "data" / "issues"
SPANISH_BRIEFING = ISSUES / "panorama-seguridad-es.txt"


def upload(editor: Editor, path: Path) -> str:
    editor.get("/admin/issues")
    sent = ("briefing.txt", path.read_bytes(), "text/plain")
    done = editor.client.post(
        "/admin/issues", data={"csrf_token": editor.csrf}, files={"file": sent}
    )
    assert done.status_code == 200, done.text
    return text_of(done.text)


def test_the_admin_lists_a_spanish_briefing_under_a_spanish_dated_title(
    settings: Settings, session: Session
) -> None:
    with signed_in(session) as editor:
        imported = upload(editor, SPANISH_BRIEFING)
        assert "Panorama Seguridad — 9 de abril de 2025" in imported
        upload(editor, BRIEFING)
        listed = text_of(editor.get("/admin/issues").text)
    assert "Panorama Seguridad — 9 de abril de 2025" in listed
    assert "Panorama Seguridad — 9 April 2025" not in listed
    assert "Security Chatter — 9 April 2025" in listed  # English unchanged
