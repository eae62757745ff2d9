"""The application as a whole: what every response carries, whichever router (or none) answered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mailer.settings import Settings
from mailer.web.app import create_app


@pytest.mark.parametrize("path", ["/no/such/page", "/archive", "/api/v1/lists", "/admin"])
def test_every_response_carries_the_security_headers(settings: Settings, path: str) -> None:
    with TestClient(create_app(), follow_redirects=False) as client:
        response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"]
