"""The firm's brand: its colours, its logo and the typefaces of the PDF edition.

Read from the MAILER_BRAND_* settings and used by every edition (the email, its text twin, the PDF,
the confirmation email) so that one change of setting restyles them all:

- MAILER_BRAND_PRIMARY_COLOR / MAILER_BRAND_ACCENT_COLOR: `#RRGGBB` (or `#RGB`). The primary colour
  carries white text (masthead, the button), so it must be dark enough for a contrast of 4.5:1
  (WCAG 2.1 AA); every other shade the templates use (tints for boxes, text in the accent colour,
  light variants on the masthead and in dark mode) is derived from the two so that it keeps that
  contrast as well. The defaults are the briefing's navy and brass, and give exactly today's look.
- MAILER_BRAND_LOGO: a PNG, JPEG or GIF (what every mail client shows). The email does not carry
  it: it is served by the web app at PUBLIC_URL/brand/logo-HASH.EXT (the hash changes with the file,
  so it can be cached for ever) and shown with its alt text (MAILER_BRAND_LOGO_ALT, default the
  firm's name), width and height, so a message stays the same size and lays out before images load.
  The PDF embeds it.
- MAILER_BRAND_SERIF_FONT / MAILER_BRAND_SANS_FONT: a font file (TrueType/OpenType, WOFF, WOFF2) or
  a folder of one family's files (regular, italic, bold…), which replace the bundled Source Serif
  Pro and Source Sans Pro (SIL Open Font License, in templates/fonts/ with their licence). The PDF
  embeds them through @font-face; the email names them first in its font stacks, for readers who
  have them installed.

Files are checked when the settings load (`check_logo`, `check_font`) so that a wrong path or a
broken file stops the program at start with the variable's name, not a campaign half-way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from mailer.errors import ConfigError


class BrandSettings(Protocol):
    """The settings the brand is read from (mailer.settings.Settings; a protocol so that the
    settings can check brand values without the two modules importing each other)."""

    brand_primary_color: str
    brand_accent_color: str
    brand_logo: Path | None
    brand_logo_alt: str
    brand_serif_font: Path | None
    brand_sans_font: Path | None
    firm_name: str


FONTS_DIR = Path(__file__).resolve().parent.parent / "templates" / "fonts"

DEFAULT_PRIMARY = "#0E2A47"  # navy
DEFAULT_ACCENT = "#B08D57"  # brass

# The families the PDF's stylesheet names; @font-face maps them to the files in use.
SERIF_FAMILY = "Briefing Serif"
SANS_FAMILY = "Briefing Sans"

LOGO_TYPES = {
    "PNG": ("image/png", ".png"),
    "JPEG": ("image/jpeg", ".jpg"),
    "GIF": ("image/gif", ".gif"),
}
LOGO_BOX = (200, 48)  # the largest logo shown, in CSS pixels (width, height)
LOGO_MAX_BYTES = 512 * 1024  # the PDF edition embeds it, and the PDF goes to every reader
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
FONT_MAX_FILES = 12

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
DARK_CARD = (0x1D, 0x24, 0x2C)  # the email's card in dark mode
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for body text

RGB = tuple[int, int, int]


# ------------------------------------------------------------------------------------------------
# Colours
# ------------------------------------------------------------------------------------------------


def parse_colour(value: str) -> str:
    """`#RRGGBB` in upper case; ValueError saying what is expected otherwise."""
    match = _HEX.fullmatch(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a colour: use #RRGGBB, e.g. {DEFAULT_PRIMARY}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.upper()


def _rgb(colour: str) -> RGB:
    digits = parse_colour(colour)[1:]
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _hex(rgb: RGB) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02X}" for c in rgb)


def _luminance(rgb: RGB) -> float:
    """Relative luminance (WCAG 2.1)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str | RGB, b: str | RGB) -> float:
    """The WCAG contrast ratio of two colours, 1 to 21."""
    la = _luminance(_rgb(a) if isinstance(a, str) else a)
    lb = _luminance(_rgb(b) if isinstance(b, str) else b)
    light, dark = max(la, lb), min(la, lb)
    return (light + 0.05) / (dark + 0.05)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    """`a` moved a fraction `t` of the way to `b`."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _first_mix(colour: RGB, towards: RGB, start: float, good: Callable[[RGB], bool]) -> RGB:
    """The first mix of `colour` towards `towards` (from `start` of the way, in steps of 1%)
    that is `good`; `towards` itself if none is."""
    for step in range(round(start * 100), 100):
        candidate = _mix(colour, towards, step / 100)
        if good(candidate):
            return candidate
    return towards


def _readable(colour: RGB, towards: RGB, background: RGB, start: float = 0.0) -> RGB:
    """`colour` moved towards black or white just far enough to read on `background`."""
    return _first_mix(colour, towards, start, lambda c: contrast(c, background) >= MIN_CONTRAST)


def _tint(colour: RGB, start: float = 0.93) -> RGB:
    """A pale tint of `colour` (a box's background) on which `colour` itself still reads."""
    return _first_mix(colour, WHITE, start, lambda t: contrast(colour, t) >= MIN_CONTRAST)


@dataclass(frozen=True)
class Palette:
    """Every colour the editions take from the brand, by role (all `#RRGGBB`)."""

    primary: str  # masthead, headlines, the button; carries white text
    accent: str  # rules and borders only
    accent_text: str  # small labels in the accent's hue, readable on white
    on_primary_accent: str  # the firm's name on the masthead
    on_primary_muted: str  # the dateline on the masthead
    accent_tint: str  # the summary's box
    primary_tint: str  # the call to action's box
    link: str  # links on white
    dark_accent: str  # labels and the button in dark mode
    dark_link: str  # links in dark mode

    @classmethod
    def default(cls) -> Palette:
        """The briefing's own navy and brass, with the shades its designer chose by hand."""
        return cls(
            primary=DEFAULT_PRIMARY,
            accent=DEFAULT_ACCENT,
            accent_text="#6B5220",
            on_primary_accent="#D9C89E",
            on_primary_muted="#C9D3DE",
            accent_tint="#F7F4EE",
            primary_tint="#EEF2F6",
            link="#0B4F8A",
            dark_accent="#D9C08A",
            dark_link="#9CC5F0",
        )

    @classmethod
    def derive(cls, primary: str, accent: str) -> Palette:
        """The palette for a firm's two colours; ValueError if the primary cannot carry white
        text. The defaults give `Palette.default()`."""
        primary, accent = parse_colour(primary), parse_colour(accent)
        if (primary, accent) == (DEFAULT_PRIMARY, DEFAULT_ACCENT):
            return cls.default()
        ratio = contrast(primary, WHITE)
        if ratio < MIN_CONTRAST:
            raise ValueError(
                f"{primary} is too light to carry white text (contrast {ratio:.1f}:1, at least "
                f"{MIN_CONTRAST}:1 is needed): choose a darker primary colour"
            )
        p, a = _rgb(primary), _rgb(accent)
        accent_tint = _mix(a, WHITE, 0.92)
        accent_text = _readable(a, BLACK, accent_tint)  # labels sit on white and on the tint
        return cls(
            primary=primary,
            accent=accent,
            accent_text=_hex(accent_text),
            on_primary_accent=_hex(_readable(a, WHITE, p, 0.3)),
            on_primary_muted=_hex(_readable(p, WHITE, p, 0.75)),
            accent_tint=_hex(accent_tint),
            primary_tint=_hex(_tint(p)),
            link=primary,
            dark_accent=_hex(_readable(a, WHITE, DARK_CARD, 0.3)),
            dark_link=_hex(_readable(p, WHITE, DARK_CARD, 0.6)),
        )


# ------------------------------------------------------------------------------------------------
# Fonts
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FontFace:
    """One font file of a family: its weight (100–900) and whether it is italic."""

    path: Path
    weight: int
    italic: bool


@dataclass(frozen=True)
class FontFamily:
    """A family as the PDF uses it (`css_name`, mapped by @font-face) and as the font names
    itself (`name`, which the email puts first in its font stacks)."""

    css_name: str
    name: str
    faces: tuple[FontFace, ...]


def _font_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in FONT_SUFFIXES)
        if not files:
            raise ValueError(f"{path} holds no font file ({', '.join(FONT_SUFFIXES)})")
        if len(files) > FONT_MAX_FILES:
            raise ValueError(
                f"{path} holds {len(files)} font files; give a folder with one family's "
                f"styles (at most {FONT_MAX_FILES})"
            )
        return files
    if not path.is_file():
        raise ValueError(f"{path} does not exist (give a font file or a folder of them)")
    if path.suffix.lower() not in FONT_SUFFIXES:
        raise ValueError(f"{path} is not a font file: expected {', '.join(FONT_SUFFIXES)}")
    return [path]


def read_font(path: Path) -> tuple[str, tuple[FontFace, ...]]:
    """The family name and faces of a font file or a folder of one family's files.

    Raises ValueError naming the file that cannot be read, has no Latin letters, or whose licence
    forbids embedding it in a document (OS/2 fsType "restricted license").
    """
    from fontTools.ttLib import TTFont, TTLibError

    faces: list[FontFace] = []
    names: list[str] = []
    for file in _font_files(path):
        try:
            font = TTFont(str(file), lazy=True)
            cmap = font.getBestCmap() or {}
            os2 = font.get("OS/2")
            name_table = font["name"]
            family = name_table.getBestFamilyName() or file.stem
        except (TTLibError, OSError, KeyError, AssertionError, ImportError) as exc:
            raise ValueError(f"{file} cannot be read as a font: {exc}") from None
        if not all(ord(c) in cmap for c in "AZaz09"):
            raise ValueError(f"{file} has no Latin letters or digits")
        weight = int(os2.usWeightClass) if os2 is not None else 400
        italic = bool(os2.fsSelection & 1) if os2 is not None else "italic" in file.stem.lower()
        if os2 is not None and os2.fsType & 0x000F == 0x0002:
            raise ValueError(f"{file}: its licence forbids embedding it in documents (fsType 2)")
        faces.append(FontFace(file.resolve(), min(max(weight, 100), 900), italic))
        names.append(family)
    if not any(f.weight < 500 and not f.italic for f in faces):
        raise ValueError(f"{path} has no regular (upright, normal weight) style")
    regular = next(n for f, n in zip(faces, names, strict=True) if f.weight < 500 and not f.italic)
    return _family_name(regular), tuple(faces)


def _family_name(name: str) -> str:
    """A family name safe in a CSS font stack (it travels unescaped through MJML)."""
    cleaned = re.sub(r"[^A-Za-z0-9 _-]", "", name).strip()
    for style in (" Regular", " Roman", " Book"):
        cleaned = cleaned.removesuffix(style)
    return cleaned or "Brand"


def _bundled(prefix: str, name: str, css_name: str) -> FontFamily:
    files = (("Regular", 400, False), ("It", 400, True), ("Semibold", 600, False))
    faces = tuple(FontFace(FONTS_DIR / f"{prefix}-{s}.ttf", w, i) for s, w, i in files)
    return FontFamily(css_name, name, faces)


def bundled_serif() -> FontFamily:
    return _bundled("SourceSerifPro", "Source Serif Pro", SERIF_FAMILY)


def bundled_sans() -> FontFamily:
    return _bundled("SourceSansPro", "Source Sans Pro", SANS_FAMILY)


def bundled_font_files() -> list[Path]:
    """Every font file shipped with the package (the PDF's fonts of last resort)."""
    return sorted(FONTS_DIR.glob("*.ttf"))


# ------------------------------------------------------------------------------------------------
# Logo
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Logo:
    path: Path
    media_type: str
    name: str  # logo-HASH.EXT: the last part of its URL
    width: int  # as shown, CSS pixels
    height: int
    alt: str

    def url(self, public_url: str) -> str:
        return f"{public_url.rstrip('/')}/brand/{self.name}"


def read_logo(path: Path, alt: str) -> Logo:
    """The logo file, checked; ValueError saying what is wrong with it."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise ValueError(f"{path} does not exist")
    size = path.stat().st_size
    if size > LOGO_MAX_BYTES:
        raise ValueError(
            f"{path} is {size // 1024} KB; the PDF edition embeds the logo, so keep it under "
            f"{LOGO_MAX_BYTES // 1024} KB (a PNG of about 400×100 pixels is plenty)"
        )
    try:
        with Image.open(path) as image:
            kind, (w, h) = image.format or "", image.size
    except (UnidentifiedImageError, OSError):
        raise ValueError(
            f"{path} is not a PNG, JPEG or GIF image (what every mail client shows)"
        ) from None
    if kind not in LOGO_TYPES:
        raise ValueError(
            f"{path} is {kind or 'an unknown format'}; mail clients show PNG, JPEG and GIF only"
        )
    media_type, suffix = LOGO_TYPES[kind]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    box_w, box_h = LOGO_BOX
    # Fit the box; never enlarge past half the image's pixels, so it stays sharp on 2x screens.
    scale = min(box_w / w, box_h / h, 0.5 if min(w, h) >= 2 else 1.0)
    width, height = max(1, round(w * scale)), max(1, round(h * scale))
    return Logo(path.resolve(), media_type, f"logo-{digest}{suffix}", width, height, alt)


# ------------------------------------------------------------------------------------------------
# The brand
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Brand:
    palette: Palette
    serif: FontFamily
    sans: FontFamily
    logo: Logo | None

    def font_stack(self, kind: str) -> str:
        """The email's font stack: the brand's family first, then what mail clients have."""
        if kind == "serif":
            return f"{self.serif.name}, Georgia, Times New Roman, Times, serif"
        return (
            f"{self.sans.name}, -apple-system, BlinkMacSystemFont, Segoe UI, Roboto, "
            "Helvetica Neue, Arial, sans-serif"
        )

    def print_css(self) -> str:
        """@font-face rules and colour variables for the PDF's stylesheet (templates/pdf)."""
        rules = []
        for family in (self.serif, self.sans):
            for face in family.faces:
                rules.append(
                    f'@font-face {{ font-family: "{family.css_name}"; '
                    f'src: url("{face.path.as_uri()}"); font-weight: {face.weight}; '
                    f"font-style: {'italic' if face.italic else 'normal'}; }}"
                )
        variables = "; ".join(
            f"--{name.replace('_', '-')}: {value}" for name, value in vars(self.palette).items()
        )
        rules.append(f":root {{ {variables}; }}")
        return "\n".join(rules) + "\n"


def _family(setting: Path | None, bundled: FontFamily, variable: str) -> FontFamily:
    if setting is None:
        return bundled
    try:
        name, faces = read_font(setting)
    except ValueError as exc:
        raise ConfigError(f"{variable}: {exc}") from None
    return FontFamily(bundled.css_name, name, faces)


def brand_of(settings: BrandSettings) -> Brand:
    """The brand the settings describe (cached: the files are read once per process)."""
    return _brand(
        settings.brand_primary_color,
        settings.brand_accent_color,
        settings.brand_logo,
        settings.brand_logo_alt or settings.firm_name,
        settings.brand_serif_font,
        settings.brand_sans_font,
    )


@lru_cache(maxsize=8)
def _brand(
    primary: str,
    accent: str,
    logo: Path | None,
    alt: str,
    serif: Path | None,
    sans: Path | None,
) -> Brand:
    try:
        palette = Palette.derive(primary, accent)
    except ValueError as exc:
        raise ConfigError(f"MAILER_BRAND_PRIMARY_COLOR: {exc}") from None
    try:
        brand_logo = read_logo(logo, alt) if logo is not None else None
    except ValueError as exc:
        raise ConfigError(f"MAILER_BRAND_LOGO: {exc}") from None
    return Brand(
        palette=palette,
        serif=_family(serif, bundled_serif(), "MAILER_BRAND_SERIF_FONT"),
        sans=_family(sans, bundled_sans(), "MAILER_BRAND_SANS_FONT"),
        logo=brand_logo,
    )
