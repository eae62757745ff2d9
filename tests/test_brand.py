"""The firm's brand (MAILER_BRAND_*): defaults that keep the briefing's look, colours and a logo
that reach the email, the PDF and the confirmation email, the firm's own fonts in the PDF, the web
app serving the logo, and settings errors that name the variable."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from pypdf import PdfReader

from mailer import brand
from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent
from mailer.errors import ConfigError
from mailer.rendering.email_edition import Personal, Personalizer, render_email_parts, render_issue
from mailer.rendering.pdf_edition import render_pdf
from mailer.sending.confirmations import build_confirmation
from mailer.settings import Settings, get_settings, reset_settings
from tests.conftest import BRIEFING
from tests.rendering.test_pdf_edition import font_programs
from tests.web_support import web_app

PUBLIC = "https://news.example.com"
FONTS = Path(__file__).resolve().parent.parent / "templates" / "fonts"
BURGUNDY, TEAL = "#5B1A2E", "#2E7D6B"


def wcag(colour: str) -> float:
    """Relative luminance of #RRGGBB (WCAG 2.1), computed here independently of mailer.brand."""
    out = []
    for i in (1, 3, 5):
        c = int(colour[i : i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * out[0] + 0.7152 * out[1] + 0.0722 * out[2]


def ratio(a: str, b: str) -> float:
    hi, lo = sorted((wcag(a), wcag(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def make_settings(**brand_settings: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url=PUBLIC,
        postal_address="Miranda Delphi Solutions, Paseo de la Reforma 250, Ciudad de México",
        **brand_settings,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def content() -> IssueContent:
    return parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))


def make_logo(path: Path, size: tuple[int, int] = (400, 100), fmt: str = "PNG") -> Path:
    """A two-colour word mark, as a firm's logo file would be."""
    grain = Image.frombytes("L", size, os.urandom(size[0] * size[1]))  # a photographic grain
    image = Image.merge("RGB", [grain.point(lambda v: 235 + v % 21)] * 3)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[1], size[1]), fill=BURGUNDY)
    draw.rectangle((size[1] + 10, size[1] // 3, size[0] - 10, size[1] * 2 // 3), fill=TEAL)
    image.save(path, fmt)
    return path


def email_for(content: IssueContent, settings: Settings) -> str:
    template, _, _ = render_email_parts(content, settings)
    rendered = render_issue(content, settings)
    assert rendered.html_template == template
    html, _ = Personalizer(rendered).render(Personal(email="ana@client.example.com"))
    return html


# ------------------------------------------------------------------------------------------------
# Colours
# ------------------------------------------------------------------------------------------------

TODAY = {  # the briefing's palette before brand settings existed (templates of issue 2)
    "primary": "#0E2A47",
    "accent": "#B08D57",
    "accent_text": "#6B5220",
    "on_primary_accent": "#D9C89E",
    "on_primary_muted": "#C9D3DE",
    "accent_tint": "#F7F4EE",
    "primary_tint": "#EEF2F6",
    "link": "#0B4F8A",
    "dark_accent": "#D9C08A",
    "dark_link": "#9CC5F0",
}


def test_the_defaults_are_todays_look(content: IssueContent) -> None:
    palette = brand.brand_of(make_settings()).palette
    assert vars(palette) == TODAY
    html = email_for(content, make_settings())
    doc = lxml.html.document_fromstring(html)
    assert not doc.xpath("//img")  # no logo unless the firm gives one
    for colour in TODAY.values():
        assert colour in html, colour


def contrasts(p: brand.Palette) -> dict[str, float]:
    return {
        "white on primary": ratio("#FFFFFF", p.primary),
        "labels on white": ratio(p.accent_text, "#FFFFFF"),
        "labels on the summary box": ratio(p.accent_text, p.accent_tint),
        "firm on masthead": ratio(p.on_primary_accent, p.primary),
        "dateline on masthead": ratio(p.on_primary_muted, p.primary),
        "links on white": ratio(p.link, "#FFFFFF"),
        "links on the call to action's box": ratio(p.link, p.primary_tint),
        "the call to action's label on its box": ratio(p.primary, p.primary_tint),
        "dark labels": ratio(p.dark_accent, "#1D242C"),
        "dark button text": ratio("#14191F", p.dark_accent),
        "dark links": ratio(p.dark_link, "#1D242C"),
    }


def dark_enough(colour: str) -> bool:
    return ratio("#FFFFFF", colour) >= 4.5


hex_colour = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06X}")


@hypothesis_settings(max_examples=200, deadline=None)
@given(primary=hex_colour.filter(dark_enough), accent=hex_colour)
def test_every_derived_shade_keeps_its_contrast(primary: str, accent: str) -> None:
    """Whatever two colours a firm picks (the primary dark enough for white text), every text
    colour derived from them reads at WCAG AA (4.5:1) on the background it is used on."""
    palette = brand.Palette.derive(primary, accent)
    assert (palette.primary, palette.accent) == (primary, accent)
    low = {k: round(v, 2) for k, v in contrasts(palette).items() if v < 4.5}
    assert not low, low


def test_the_firms_colours_reach_the_email_the_pdf_and_the_confirmation(
    content: IssueContent, tmp_path: Path
) -> None:
    settings = make_settings(brand_primary_color=BURGUNDY, brand_accent_color=TEAL.lower())
    html = email_for(content, settings)
    doc = lxml.html.document_fromstring(html)
    masthead = doc.xpath("//h1")[0].getparent()
    while "background" not in (masthead.get("style") or "") and masthead.getparent() is not None:
        masthead = masthead.getparent()
    assert BURGUNDY.lower() in masthead.get("style").lower()
    assert f"border-bottom:4px solid {TEAL}" in html.replace(": ", ":")
    button = doc.xpath("//a[normalize-space()='Talk to Fausto']")[0]
    assert BURGUNDY.lower() in button.get("style").lower()
    assert "#0E2A47" not in html and "#B08D57" not in html  # nothing left of the default palette

    pdf = tmp_path / "edition.pdf"
    pdf.write_bytes(render_pdf(content, settings))
    page = render_page(pdf, tmp_path)
    mm = page.width / 210
    # the masthead: 9 mm in from the margin, 4 mm down from its top
    assert page.getpixel((round(30 * mm), round(28 * mm))) == rgb(BURGUNDY)
    # the accent rule under it (3 pt) somewhere in the 12 mm below the masthead's text
    column = [page.getpixel((round(100 * mm), y)) for y in range(round(40 * mm), round(75 * mm))]
    assert rgb(TEAL) in column

    confirmation = build_confirmation(
        settings, email="ana@client.example.com", list_name="Security Chatter", url=f"{PUBLIC}/c"
    )
    assert BURGUNDY.encode() in confirmation.data and b"#0E2A47" not in confirmation.data


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def render_page(pdf: Path, tmp_path: Path, page: int = 1) -> Image.Image:
    import subprocess

    out = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "100", "-f", str(page), "-l", str(page), "-png", str(pdf), str(out)],
        check=True,
    )
    (png,) = tmp_path.glob("page-*.png")
    return Image.open(png).convert("RGB")


# ------------------------------------------------------------------------------------------------
# Logo
# ------------------------------------------------------------------------------------------------


def test_the_logo_is_hosted_sized_and_described_in_the_email_and_embedded_in_the_pdf(
    content: IssueContent, tmp_path: Path
) -> None:
    logo = make_logo(tmp_path / "logo.png")
    plain = email_for(content, make_settings())
    settings = make_settings(brand_logo=logo, brand_logo_alt="Miranda Delphi Solutions — home")
    html = email_for(content, settings)
    (img,) = lxml.html.document_fromstring(html).xpath("//img")
    digest = brand.brand_of(settings).logo
    assert digest is not None
    assert img.get("src") == f"{PUBLIC}/brand/{digest.name}"
    assert digest.name.startswith("logo-") and digest.name.endswith(".png")
    assert img.get("alt") == "Miranda Delphi Solutions — home"
    # 400×100 pixels shown at 192×48 CSS pixels: the box is 48 high, sharp on 2x screens
    assert (img.get("width"), img.get("height")) == ("192", "48")
    growth = len(html.encode()) - len(plain.encode())
    size = logo.stat().st_size
    print(f"\nthe logo ({size} bytes) adds {growth} bytes to the HTML")
    assert growth < 3000 < size  # a link, not the image

    pdf = PdfReader(io.BytesIO(render_pdf(content, settings)))
    images = pdf.pages[0].images
    assert len(images) == 1 and images[0].image is not None
    assert images[0].image.size == (400, 100)

    confirmation = build_confirmation(
        settings, email="ana@client.example.com", list_name="Security Chatter", url=f"{PUBLIC}/c"
    )
    assert f"{PUBLIC}/brand/{digest.name}".encode() in confirmation.data.replace(b"=\r\n", b"")


@pytest.fixture
def web_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in ("MAILER_BRAND_LOGO", "MAILER_PUBLIC_URL", "MAILER_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MAILER_DATABASE_URL", f"sqlite:///{tmp_path / 'mailer.db'}")
    monkeypatch.setenv("MAILER_PUBLIC_URL", PUBLIC)
    logo = make_logo(tmp_path / "logo.png")
    monkeypatch.setenv("MAILER_BRAND_LOGO", str(logo))
    reset_settings()
    yield logo
    reset_settings()


def test_the_web_app_serves_the_logo_under_its_url(web_settings: Path) -> None:
    logo = brand.brand_of(get_settings()).logo
    assert logo is not None
    with TestClient(web_app(), base_url=PUBLIC) as client:
        got = client.get(logo.url(PUBLIC).removeprefix(PUBLIC))
        assert got.status_code == 200
        assert got.headers["content-type"] == "image/png"
        assert got.content == web_settings.read_bytes()
        assert "immutable" in got.headers["cache-control"]
        assert got.headers["x-content-type-options"] == "nosniff"
        assert client.get("/brand/logo-000000000000.png").status_code == 404
        assert client.get("/brand/..%2Fmailer.db").status_code == 404


# ------------------------------------------------------------------------------------------------
# Fonts
# ------------------------------------------------------------------------------------------------


def test_the_firms_own_font_replaces_the_bundled_one(content: IssueContent, tmp_path: Path) -> None:
    """A folder of one family's files as MAILER_BRAND_SERIF_FONT (here Source Sans Pro, standing
    in for a firm's typeface): the PDF's text is set in it; the email names it first."""
    family = tmp_path / "firm-serif"
    family.mkdir()
    for style in ("Regular", "It", "Semibold"):
        shutil.copy(FONTS / f"SourceSansPro-{style}.ttf", family)
    name, faces = brand.read_font(family)
    assert name == "Source Sans Pro"
    assert sorted((f.weight, f.italic) for f in faces) == [(400, False), (400, True), (600, False)]
    settings = make_settings(brand_serif_font=family)
    pdf = tmp_path / "edition.pdf"
    pdf.write_bytes(render_pdf(content, settings))
    programs = font_programs(pdf)
    assert "SourceSerifPro-Regular" not in programs and "SourceSansPro-Regular" in programs
    html = email_for(content, settings)
    assert "font-family:Source Sans Pro, Georgia," in html.replace(": ", ":")


# ------------------------------------------------------------------------------------------------
# Settings errors
# ------------------------------------------------------------------------------------------------


def bad_files(tmp: Path) -> dict[str, Path]:
    (tmp / "notes.txt").write_text("not an image")
    (tmp / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(tmp / "huge.png")
    (tmp / "font.ttf").write_bytes(b"\0\1\0\0 not really a font")
    (tmp / "empty-folder").mkdir()
    return {p.name: p for p in tmp.iterdir()}


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MAILER_BRAND_PRIMARY_COLOR", "navy", "'navy' is not a colour: use #RRGGBB"),
        ("MAILER_BRAND_ACCENT_COLOR", "#12345", "'#12345' is not a colour"),
        ("MAILER_BRAND_PRIMARY_COLOR", "#F5D76E", "too light to carry white text (contrast 1."),
        ("MAILER_BRAND_LOGO", "missing.png", "missing.png does not exist"),
        ("MAILER_BRAND_LOGO", "notes.txt", "notes.txt is not a PNG, JPEG or GIF image"),
        ("MAILER_BRAND_LOGO", "logo.svg", "logo.svg is not a PNG, JPEG or GIF image"),
        ("MAILER_BRAND_LOGO", "huge.png", "the PDF edition embeds the logo, so keep it under 512"),
        ("MAILER_BRAND_SERIF_FONT", "font.ttf", "font.ttf cannot be read as a font"),
        ("MAILER_BRAND_SANS_FONT", "empty-folder", "holds no font file"),
        ("MAILER_BRAND_SANS_FONT", "notes.txt", "is not a font file"),
    ],
)
def test_a_bad_brand_setting_stops_the_start_naming_the_variable(
    variable: str, value: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = bad_files(tmp_path)
    is_path = variable.endswith(("_LOGO", "_FONT"))
    monkeypatch.setenv(variable, str(files.get(value, tmp_path / value)) if is_path else value)
    reset_settings()
    try:
        with pytest.raises(ConfigError) as caught:
            get_settings()
    finally:
        reset_settings()
    message = str(caught.value)
    print(f"\n{message}")
    assert f"{variable}: " in message and says in message
