"""The PDF edition of an issue, printed by WeasyPrint from templates/pdf/.

Printed once per issue (by `render_issue`) and attached to every message, so it must be
self-contained and the same on every host: the stylesheet, the logo and the fonts come from the
package (or the firm's brand files), never from the network or the host's fonts.

Fonts. The stylesheet names only the brand's families ("Briefing Serif", "Briefing Sans"), which
@font-face rules map to the bundled Source Serif/Sans Pro or the firm's own files, so the host's
fonts are never picked. A host with no fonts at all (a slim container, fontconfig pointed at an
empty directory) used to crash the process with SIGSEGV: when fontconfig knows no font, Pango's
itemizer returns runs without a font, and WeasyPrint hands that NULL font to
`pango_font_get_hb_font` while drawing. `bundled_fonts()` prevents that at the source: every font
configuration the PDF is laid out with also knows the bundled font files, whatever fontconfig's
own configuration says, so a template without @font-face still has fonts to fall back on.

Fitting. When the last page would be less than half full, the print is laid out again with
slightly tighter spacing (`fit-1`…`fit-3` in print.css: the same column) and the first variant
that saves the page is kept. The variants' layouts reuse the first one's fonts and stylesheets
(`print_setup`) and line breaks (rendering/line_breaks.py): a tighter layout costs about a third
less than the first.

WeasyPrint takes over a second to import: it is loaded when a PDF is printed, not with the CLI;
a worker loads it at its start (`preload`), before its pool processes fork.
"""

from __future__ import annotations

import atexit
import os
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailer.brand import brand_of, bundled_font_files
from mailer.content.document import IssueContent
from mailer.rendering.context import issue_context
from mailer.rendering.environment import TEMPLATE_ROOT, fill_template, template_envs
from mailer.rendering.errors import RenderError
from mailer.rendering.line_breaks import shared_line_breaks
from mailer.settings import Settings

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.document import Document
    from weasyprint.text.fonts import FontConfiguration

PDF_TEMPLATE = "pdf/issue.html.j2"
PDF_STYLESHEET = "pdf/print.css"

# WeasyPrint's names for the two paper sizes the firm prints on (A4: 595×842 pt, Letter: 612×792).
PAGE_SIZES = {"A4": "A4", "Letter": "letter"}

# Layout variants tried in turn when the last page is mostly empty (classes of <html>).
FIT_VARIANTS = ("", "fit-1", "fit-2", "fit-3")
MOSTLY_EMPTY = 0.5  # a last page less than half full is worth saving


def _import_weasyprint() -> None:
    with warnings.catch_warnings():
        # WeasyPrint warns at import when fontconfig knows no font; bundled_fonts() supplies them.
        warnings.filterwarnings("ignore", message=".*fonts configured in FontConfig.*")
        warnings.filterwarnings("ignore", message="FontConfig cannot load default config.*")
        import weasyprint  # noqa: F401


def preload() -> None:
    """Load WeasyPrint now rather than at the first PDF (a worker, before its pool forks)."""
    _import_weasyprint()


def bundled_fonts() -> FontConfiguration:
    """WeasyPrint's font configuration, plus the fonts shipped with the package.

    fontconfig's configuration (FONTCONFIG_FILE, /etc/fonts) may list no font at all; adding the
    bundled files to this configuration as application fonts means Pango always has a font for
    every run of text, so it never hands WeasyPrint a NULL font (the SIGSEGV of a font-less host).
    Raises RenderError if none of the bundled files can be loaded.
    """
    _import_weasyprint()
    from weasyprint.text.ffi import ffi, fontconfig, pangoft2
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    config = fonts._config  # the FcConfig WeasyPrint's Pango font map uses
    added = sum(
        bool(fontconfig.FcConfigAppFontAddFile(config, str(path).encode("utf-8")))
        for path in bundled_font_files()
    )
    if not added:
        raise RenderError(
            "no font could be loaded for the PDF: the package's templates/fonts/ folder is "
            "missing or unreadable (reinstall the package)"
        )
    pangoft2.pango_fc_font_map_config_changed(ffi.cast("PangoFcFontMap *", fonts.font_map))
    return fonts


def render_pdf_html(
    content: IssueContent,
    settings: Settings,
    *,
    template_dir: Path | None = None,
    fit: str = "",
) -> str:
    """The print HTML (exposed so previews and tests can look at what WeasyPrint receives)."""
    root = Path(template_dir) if template_dir is not None else TEMPLATE_ROOT
    html_env, _ = template_envs(str(root))
    return fill_template(html_env, PDF_TEMPLATE, _print_context(content, settings, fit))


def _print_context(content: IssueContent, settings: Settings, fit: str) -> dict[str, Any]:
    context = issue_context(content, settings)
    context["page_size"] = PAGE_SIZES.get(settings.page_size, "A4")
    context["fit"] = fit
    logo = context["logo"]
    context["logo_src"] = logo.path.as_uri() if logo is not None else ""
    return context


def layout_pdf(
    content: IssueContent,
    settings: Settings,
    *,
    template_dir: Path | None = None,
    fit: str = "",
) -> Document:
    """The edition laid out in pages (one of FIT_VARIANTS), before it is written as a PDF."""
    root = Path(template_dir) if template_dir is not None else TEMPLATE_ROOT
    fonts, sheets = print_setup(root, settings)
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_pdf_html(content, settings, template_dir=root, fit=fit)
    document = HTML(
        string=html,
        base_url=str((root / "pdf").resolve()) + "/",
        # local files only: the print never reaches the network
        url_fetcher=URLFetcher(allowed_protocols=["file", "data"]),
    )
    return document.render(stylesheets=sheets, font_config=fonts)


# (pid, thread, template folder, stylesheet's stat, brand CSS, page size) → (fonts, stylesheets)
_SETUPS: dict[tuple[object, ...], tuple[FontConfiguration, list[CSS]]] = {}
_SETUPS_KEPT = 4
_SETUPS_LOCK = threading.Lock()


def print_setup(root: Path, settings: Settings) -> tuple[FontConfiguration, list[CSS]]:
    """The font configuration and the parsed stylesheets (the brand's @font-face rules and
    colours, print.css, the page size) for printing from the template folder `root`.

    Made once per thread and reused by its layouts until the stylesheet file changes (its size
    or modification time) or the brand does: parsing the sheets and registering the fonts cost
    about a tenth of a layout, and a font map that has already loaded its fonts lays the next
    document out about 0.1 s faster (a fitted print lays the issue out twice). WeasyPrint
    documents a FontConfiguration as reusable across documents; it is not shared between
    threads (Pango's font maps are not thread-safe: the web pages may print two previews at
    once) nor across a fork (`_forget_inherited`). Raises RenderError when the stylesheet is
    missing.
    """
    stylesheet = root / PDF_STYLESHEET
    if not stylesheet.is_file():
        raise RenderError(f"the PDF stylesheet {stylesheet} is missing")
    stat = stylesheet.stat()
    brand_css = brand_of(settings).print_css()
    size = PAGE_SIZES.get(settings.page_size, "A4")
    key = (
        os.getpid(),
        threading.get_ident(),
        str(root),
        stat.st_size,
        stat.st_mtime_ns,
        brand_css,
        size,
    )
    with _SETUPS_LOCK:
        setup = _SETUPS.get(key)
    if setup is None:
        fonts = bundled_fonts()
        from weasyprint import CSS

        sheets = [
            CSS(string=brand_css, font_config=fonts),
            CSS(filename=str(stylesheet), font_config=fonts),
            CSS(string=f"@page {{ size: {size}; }}", font_config=fonts),
        ]
        setup = (fonts, sheets)
        with _SETUPS_LOCK:
            while len(_SETUPS) >= _SETUPS_KEPT:
                del _SETUPS[next(iter(_SETUPS))]
            _SETUPS[key] = setup
    return setup


def _forget_inherited() -> None:
    """In a forked child: drop the parent's setups without deleting the parent's files.

    A FontConfiguration copies @font-face fonts into a temporary folder that it deletes when it
    is freed; a child's copy of the parent's object names the same folder, so freeing it in the
    child would delete the fonts under the parent (and its later children). The child makes its
    own on first use; Pango's and FreeType's state is not shared across a fork either. The lock
    is new too: another thread of the parent may have held it at the fork."""
    global _SETUPS_LOCK
    _SETUPS_LOCK = threading.Lock()
    for fonts, _ in _SETUPS.values():
        fonts._folder = None  # the parent's folder: not this process's to delete
    _SETUPS.clear()


os.register_at_fork(after_in_child=_forget_inherited)
# Freed before the interpreter's teardown: freeing a Pango font map while the modules are being
# torn down crashes the process at exit (SIGSEGV).
atexit.register(_SETUPS.clear)


def last_page_fill(document: Document) -> float:
    """How much of the last page's text area its content takes, 0 to 1 (running heads and
    footers, which live in the page's margin boxes, do not count)."""
    from weasyprint.formatting_structure import boxes

    page = document.pages[-1]._page_box
    top, height = page.content_box_y(), page.height
    bottom = top
    for child in page.children:
        if isinstance(child, boxes.MarginBox):
            continue
        for box in child.descendants():
            if isinstance(box, boxes.TextBox | boxes.ReplacedBox) or (
                isinstance(box, boxes.BlockBox) and box.style["background_color"].alpha
            ):
                bottom = max(bottom, box.position_y + box.margin_height())
    return max(0.0, min(1.0, (bottom - top) / height)) if height else 1.0


def render_pdf(
    content: IssueContent, settings: Settings, *, template_dir: Path | None = None
) -> bytes:
    """The PDF edition as bytes: A4 unless MAILER_PAGE_SIZE=Letter, page N of M in the footer.

    The variants' layouts share their line breaks (rendering/line_breaks.py): a tighter variant
    breaks the same paragraphs at the same width."""
    with shared_line_breaks():
        document = layout_pdf(content, settings, template_dir=template_dir)
        if len(document.pages) > 1 and last_page_fill(document) < MOSTLY_EMPTY:
            for fit in FIT_VARIANTS[1:]:
                tighter = layout_pdf(content, settings, template_dir=template_dir, fit=fit)
                if len(tighter.pages) < len(document.pages):
                    document = tighter
                    break
    pdf = document.write_pdf()
    if not pdf:
        raise RenderError("WeasyPrint produced an empty PDF")
    return bytes(pdf)
