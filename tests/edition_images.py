"""What a reader sees, as images: the email in Chromium at 375, 600 and 800 px, light and dark, and
the PDF's pages (pdftoppm). The browser and PDF tests write them under their tmp dir; the README's
copies in docs/images/ are made by the same code:

    python -m tests.edition_images docs/images

PNGs are stored with a 256-colour palette (no dithering): text stays crisp at a third of the size.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, sync_playwright

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent
from mailer.rendering.email_edition import Personal, Personalizer, render_issue
from mailer.rendering.pdf_edition import render_pdf
from mailer.settings import Settings
from tests.browser import launch
from tests.conftest import BRIEFING

POSTAL = "Miranda Delphi Solutions, Paseo de la Reforma 250, Piso 12, 06600 Ciudad de México"
READER = Personal(
    email="ana.perez@client.example.com",
    name="Ana Pérez",
    unsubscribe_url="https://news.example.com/u/abc123",
    preferences_url="https://news.example.com/u/abc123/preferences",
    reply_address="reply+2f-k3v9q2mzt7dx4a@news.example.com",
)
WIDTHS = (375, 600, 800)
SCHEMES = ("light", "dark")


def sample_settings(page_size: str = "A4") -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url="https://news.example.com",
        postal_address=POSTAL,
        page_size=page_size,
    )


def sample_content() -> IssueContent:
    return parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))


def sample_email_html() -> str:
    """The fixture issue as the sample reader receives it."""
    html, _ = Personalizer(render_issue(sample_content(), sample_settings())).render(READER)
    return html


def save_png(png: bytes, path: Path) -> Path:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(path, optimize=True)
    return path


def screenshot(browser: Browser, html: str, width: int, scheme: str, path: Path) -> Path:
    """The whole email at `width` CSS pixels in `scheme`, offline."""
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page.route("**/*", lambda route: route.abort())
        page.set_content(html, wait_until="load")
        return save_png(page.screenshot(full_page=True), path)
    finally:
        page.close()


def pdf_pages(pdf: bytes, folder: Path, dpi: int = 100, prefix: str = "pdf-page") -> list[Path]:
    """The PDF's pages as PNG files `prefix-N.png` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{prefix}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(source), str(folder / prefix)], check=True
    )
    source.unlink()
    pages = sorted(folder.glob(f"{prefix}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for page in pages:
        save_png(page.read_bytes(), page)
    return pages


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    html = sample_email_html()
    with sync_playwright() as p:
        browser = launch(p)
        for width in WIDTHS:
            for scheme in SCHEMES:
                shot = screenshot(
                    browser, html, width, scheme, folder / f"email-{width}-{scheme}.png"
                )
                print(shot)
        browser.close()
    for page in pdf_pages(render_pdf(sample_content(), sample_settings()), folder):
        print(page)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
