"""The PDF edition of the real briefing, printed by WeasyPrint, read back with pdftotext/pypdf."""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import lxml.etree
import pyphen
import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent, long_date
from mailer.content.markdown import parse_markdown
from mailer.rendering.environment import TEMPLATE_ROOT
from mailer.rendering.pdf_edition import (
    last_page_fill,
    layout_pdf,
    print_setup,
    render_pdf,
    render_pdf_html,
)
from mailer.settings import Settings
from tests.conftest import BRIEFING
from tests.edition_images import POSTAL, pdf_pages, sample_settings

SPANISH = Path(__file__).parent.parent / "data" / "issues" / "seguridad-es.md"


def flat(text: str) -> str:
    return " ".join(text.split())


def settings_for(page_size: str) -> Settings:
    return sample_settings(page_size)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "edition.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    )
    return out.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def content() -> IssueContent:
    return parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))


@pytest.fixture(scope="module")
def a4_pdf(content: IssueContent) -> bytes:
    return render_pdf(content, settings_for("A4"))


def test_pdf_has_every_headline_source_line_partner_and_call_to_action(
    a4_pdf: bytes, content: IssueContent, tmp_path: Path
) -> None:
    text = flat(pdf_text(a4_pdf, tmp_path))
    for expected in (
        "Miranda Delphi Solutions",
        "Security Chatter",
        "9 April 2025",
        "By Fausto Carbajal Glass, Partner, Miranda Delphi Solutions",
        " ".join(content.summary.split()[:10]),  # justified body text may hyphenate later
        content.call_to_action,
        "fausto.carbajal@miranda-partners.com",
    ):
        assert flat(expected) in text, expected
    # section labels are set in small capitals (text-transform), so compare without case
    assert "executive summary" in text.lower()
    assert "talk to fausto" in text.lower()
    for item in content.items:
        s = item.source
        assert flat(item.headline) in text, item.headline
        line = f"Source: {s.outlet}, {long_date(s.date)}, {s.author}: {s.title}"
        assert flat(line) in text, line


def test_pdf_is_a4_with_page_numbers(a4_pdf: bytes, tmp_path: Path) -> None:
    reader = PdfReader(io.BytesIO(a4_pdf))
    pages = len(reader.pages)
    print(f"\nA4 edition: {pages} pages, {len(a4_pdf) / 1024:.0f} KB")
    assert pages >= 2
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = pdf_text(a4_pdf, tmp_path)
    assert f"Page 1 of {pages}" in text
    assert f"Page {pages} of {pages}" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Security Chatter — 9 April 2025"
    assert reader.metadata.author == "Fausto Carbajal Glass, Miranda Delphi Solutions"


def test_letter_setting_prints_on_letter(content: IssueContent, tmp_path: Path) -> None:
    pdf = render_pdf(content, settings_for("Letter"))
    reader = PdfReader(io.BytesIO(pdf))
    sizes = {
        (round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages
    }
    assert sizes == {(612, 792)}
    assert re.search(r"Page 1 of \d+", pdf_text(pdf, tmp_path))


def test_headlines_never_end_a_page(a4_pdf: bytes, content: IssueContent) -> None:
    """A headline is followed by its first paragraph on the same page (break-after: avoid)."""
    reader = PdfReader(io.BytesIO(a4_pdf))
    pages = [flat(p.extract_text() or "") for p in reader.pages]
    for item in content.items:
        first_words = " ".join(item.paragraphs[0].split()[:4])
        # the last page naming the headline: the contents list on page 1 names them all too
        page = max(i for i, t in enumerate(pages) if flat(item.headline)[:40] in t)
        assert first_words in pages[page], item.headline


# ------------------------------------------------------------------------------------------------
# The same print on every host: bundled fonts only, embedded, with or without system fonts
# ------------------------------------------------------------------------------------------------

FONTS_DIR = Path(__file__).resolve().parents[2] / "templates" / "fonts"


def bundled_postscript_names() -> set[str]:
    """The PostScript names of the font files shipped in templates/fonts/ (read from the files)."""
    return {TTFont(str(p))["name"].getDebugName(6) or "" for p in FONTS_DIR.glob("*.ttf")}


def embedded_fonts(pdf: Path) -> list[dict[str, str]]:
    """`pdffonts`' table: one dict per font (name, type, emb, sub, uni)."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert lines[1].startswith("----"), out.stdout
    rows = []
    for line in lines[2:]:
        name, rest = line.split(None, 1)
        fields = rest.rsplit(None, 6)  # type may contain spaces; then encoding emb sub uni obj gen
        rows.append({"name": name, "type": fields[0], "emb": fields[2], "line": line})
    return rows


def font_programs(pdf: Path) -> set[str]:
    """The PostScript names inside the font programs the PDF embeds (not the PDF's labels)."""
    names = set()
    for page in PdfReader(str(pdf)).pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            if "/DescendantFonts" in font:
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font["/FontDescriptor"].get_object()
            program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
            assert program is not None, f"{font.get('/BaseFont')} is not embedded"
            data = program.get_object().get_data()
            names.add(TTFont(io.BytesIO(data))["name"].getDebugName(6) or "")
    return names


def preview_pdf(folder: Path, env: dict[str, str]) -> Path:
    """`mailer issue preview` as a user runs it (the crash of issue 16 was here), in `folder`."""
    env = {**env, "MAILER_DATABASE_URL": f"sqlite:///{folder / 'mailer.db'}"}
    env["MAILER_PUBLIC_URL"] = "https://news.example.com"
    env["MAILER_POSTAL_ADDRESS"] = POSTAL
    for args in (["db", "upgrade"], ["issue", "import", str(BRIEFING)]):
        subprocess.run([*MAILER, *args], cwd=folder, env=env, check=True, capture_output=True)
    done = subprocess.run(
        [*MAILER, "issue", "preview", "security-chatter-2025-04-09", "--out", "preview"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Fontconfig error" not in done.stderr and "Pango-CRITICAL" not in done.stderr
    (pdf,) = (folder / "preview").glob("*.pdf")
    return pdf


MAILER = [sys.executable, "-m", "mailer"]


def test_the_pdf_embeds_only_the_bundled_fonts_with_and_without_system_fonts(
    tmp_path: Path,
) -> None:
    """fontconfig pointed at an empty font directory (a slim container) against this host (with
    DejaVu and Liberation installed): the same fonts, all bundled and embedded, the same pages."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MAILER_", "FONTCONFIG"))}
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{empty}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n"
    )
    bare = {**base, "FONTCONFIG_FILE": str(conf)}
    listed = subprocess.run(["fc-list"], env=bare, capture_output=True, text=True, check=True)
    assert listed.stdout.strip() == ""  # the premise: this fontconfig knows no font at all
    host_fonts = subprocess.run(["fc-list"], env=base, capture_output=True, text=True, check=True)
    assert host_fonts.stdout.strip() != ""

    pdfs = {}
    for name, env in (("host", base), ("no system fonts", bare)):
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        pdfs[name] = preview_pdf(folder, env)

    bundled = bundled_postscript_names()
    pages = {}
    for name, pdf in pdfs.items():
        rows = embedded_fonts(pdf)
        print(f"\npdffonts ({name}):\n" + "\n".join(r["line"] for r in rows))
        assert rows and all(r["emb"] == "yes" for r in rows), rows
        assert all(
            re.fullmatch(r"[A-Z]{6}\+Briefing-(Serif|Sans)[-A-Za-z]*", r["name"]) for r in rows
        )
        programs = font_programs(pdf)
        assert programs <= bundled, programs - bundled
        pages[name] = len(PdfReader(str(pdf)).pages)
    print(f"pages: {pages}")
    assert pages["host"] == pages["no system fonts"]
    assert font_programs(pdfs["host"]) == font_programs(pdfs["no system fonts"])
    assert {r["name"].split("+")[1] for r in embedded_fonts(pdfs["host"])} == {
        r["name"].split("+")[1] for r in embedded_fonts(pdfs["no system fonts"])
    }


# ------------------------------------------------------------------------------------------------
# Typography, judged on the printed pages
# ------------------------------------------------------------------------------------------------


class Line:
    """One printed line as poppler reads it back: its words and their boxes, in points."""

    def __init__(self, page: int, words: list[tuple[str, float, float, float, float]]):
        self.page = page
        self.words = words
        self.x0 = min(w[1] for w in words)
        self.y0 = min(w[2] for w in words)
        self.x1 = max(w[3] for w in words)
        self.y1 = max(w[4] for w in words)
        self.text = " ".join(w[0] for w in words)

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def printed_lines(pdf: bytes, tmp_path: Path) -> list[Line]:
    path = tmp_path / "lines.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(path), "-"], check=True, capture_output=True
    )
    root = lxml.etree.fromstring(out.stdout, lxml.etree.XMLParser(recover=True))
    lines = []
    for n, page in enumerate(root.iter("{*}page"), 1):
        for line in page.iter("{*}line"):
            words = [
                (w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
                for w in line.iter("{*}word")
            ]
            if words:
                lines.append(Line(n, words))  # type: ignore[arg-type]
    return lines


def body_lines(lines: list[Line]) -> list[tuple[Line, bool]]:
    """The running text (the summary's 12 pt and the items' 11 pt serif) in the text column,
    each with whether it is a full line (another line of the same paragraph follows at once)."""
    text_height = statistics.mode(round(ln.height, 1) for ln in lines if len(ln.words) >= 8)
    prose = [ln for ln in lines if 0.9 <= ln.height / text_height <= 1.15 and len(ln.words) >= 3]
    column = statistics.mode(round(ln.x0) for ln in prose)
    prose = [ln for ln in prose if abs(ln.x0 - column) <= 3]
    out = []
    for line, after in zip(prose, [*prose[1:], None], strict=True):
        full = after is not None and after.page == line.page and 0 <= after.y0 - line.y1 < 3
        out.append((line, full))
    return out


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_the_measure_is_60_to_75_characters(
    content: IssueContent, page_size: str, tmp_path: Path
) -> None:
    pdf = render_pdf(content, settings_for(page_size))
    full = [ln for ln, is_full in body_lines(printed_lines(pdf, tmp_path)) if is_full]
    lengths = sorted(len(ln.text) for ln in full)
    median = statistics.median(lengths)
    print(f"\n{len(full)} full lines: median {median} characters, {lengths[0]}–{lengths[-1]}")
    assert len(full) > 60
    assert 60 <= median <= 75
    assert lengths[-1] <= 80  # ragged right: long lines stay within reach of the measure


def test_ragged_right_without_rivers(a4_pdf: bytes, tmp_path: Path) -> None:
    """Word spaces are the font's own in every line (justification would stretch them, and
    stretched spaces stacked line over line are rivers); the right edge is left ragged."""
    gaps, right_edges = [], []
    for line, full in body_lines(printed_lines(a4_pdf, tmp_path)):
        words = line.words
        gaps += [b[1] - a[3] for a, b in zip(words, words[1:], strict=False)]
        if full:
            right_edges.append(line.x1)
    normal = statistics.median(gaps)
    print(f"\nword space {normal:.2f} pt, widest {max(gaps):.2f} pt")
    assert max(gaps) <= normal * 1.35
    assert statistics.pstdev(right_edges) > 3  # points: a ragged edge, not a justified one


def hyphenations(lines: list[Line]) -> list[tuple[str, int]]:
    """(word, where it was broken) for every word the print hyphenated at a line's end."""
    found = []
    for line, after in zip(lines, lines[1:], strict=False):
        last = line.words[-1][0]
        if not last.endswith("-") or len(last) < 3 or last[-2] == "-":
            continue
        head = re.sub(r"^\W+", "", last[:-1])
        tail = re.match(r"\w+", after.words[0][0])
        if head and tail and head[-1].isalpha():
            found.append((head + tail.group(0), len(head)))
    return found


def check_hyphenation(content: IssueContent, pdf: bytes, lang: str, tmp_path: Path) -> None:
    """Every word the print broke at a line's end was broken where `lang`'s hyphenation
    dictionary allows, and the print did break some."""
    text = " ".join([content.summary, *(p for i in content.items for p in i.paragraphs)])
    words = set(re.findall(r"\w+", text))
    broken = [(w, at) for w, at in hyphenations(printed_lines(pdf, tmp_path)) if w in words]
    print(f"\n{lang}: {broken}")
    assert len(broken) >= 2
    dictionary = pyphen.Pyphen(lang=lang)
    assert all(at in dictionary.positions(word) for word, at in broken), broken


def test_hyphenation_follows_the_issue_language(
    a4_pdf: bytes, content: IssueContent, tmp_path: Path
) -> None:
    """English for the fixture, Spanish for a Spanish issue (recognised from its text)."""
    check_hyphenation(content, a4_pdf, "en", tmp_path)
    spanish = parse_markdown(SPANISH.read_text(encoding="utf-8"), path=str(SPANISH))
    assert "lang" not in spanish.extra  # recognised from the text, not told
    assert '<html lang="es"' in render_pdf_html(spanish, settings_for("A4"))
    check_hyphenation(spanish, render_pdf(spanish, settings_for("A4")), "es", tmp_path)


@pytest.fixture(scope="module")
def a4_pages(a4_pdf: bytes, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The PDF's pages as PNG (pdftoppm), kept under the test's tmp dir for a person to see."""
    folder = tmp_path_factory.mktemp("pdf-pages")
    print(f"\nPDF pages as PNG: {folder}")
    return pdf_pages(a4_pdf, folder)


def ink_rows(image: Image.Image, x0: int, x1: int) -> list[float]:
    """For each row of pixels, the share of [x0, x1) that is not paper-white."""
    gray = image.convert("L")
    width, height = gray.size
    pixels = gray.load()
    assert pixels is not None
    return [sum(1 for x in range(x0, x1) if pixels[x, y] < 235) / (x1 - x0) for y in range(height)]


def test_one_running_rule_under_the_running_head(a4_pages: list[Path]) -> None:
    """Pages 2 on carry the newsletter, date and firm above one full-width rule, no more."""
    assert len(a4_pages) >= 2
    for path in a4_pages[1:]:
        image = Image.open(path)
        mm = image.width / 210
        rows = ink_rows(image, round(18 * mm), round((210 - 18) * mm))
        head = rows[: round(24 * mm)]  # the top margin
        rules = [y for y, share in enumerate(head) if share > 0.9]
        groups = [y for y in rules if y - 1 not in rules]
        print(f"\n{path.name}: rules at rows {rules}")
        assert len(groups) == 1, f"{path.name}: {len(groups)} rules in the running head"


def test_the_last_page_is_not_mostly_blank(a4_pages: list[Path]) -> None:
    last = Image.open(a4_pages[-1])
    mm = last.width / 210
    rows = ink_rows(last, round(18 * mm), round((210 - 18) * mm))
    top, bottom = round(24 * mm), round((297 - 22) * mm)  # the page's text area
    inked = [y for y in range(top, bottom) if rows[y] > 0]
    fill = (max(inked) - top) / (bottom - top)
    print(f"\nlast page ({a4_pages[-1].name}) filled to {fill:.0%}")
    assert fill >= 0.5


def with_more_text(content: IssueContent, sentences: int) -> IssueContent:
    extra = " ".join(["The committee asked again for information on each case."] * sentences)
    last = content.items[-1]
    longer = replace(last, paragraphs=(*last.paragraphs, extra))
    return replace(content, items=(*content.items[:-1], longer))


def test_a_few_overflowing_lines_do_not_get_a_page_of_their_own(content: IssueContent) -> None:
    """Text is added to the last item until the loose layout just spills onto a new page; the
    print then tightens its spacing instead of printing an almost empty page."""
    settings = settings_for("A4")
    base = len(layout_pdf(content, settings).pages)
    low, high = 0, 96  # sentences: the loose layout has `base` pages at `low`, more at `high`
    assert len(layout_pdf(with_more_text(content, high), settings).pages) > base
    while high - low > 1:
        middle = (low + high) // 2
        if len(layout_pdf(with_more_text(content, middle), settings).pages) > base:
            high = middle
        else:
            low = middle
    spilled = with_more_text(content, high)
    loose = layout_pdf(spilled, settings)
    printed = PdfReader(io.BytesIO(render_pdf(spilled, settings)))
    print(
        f"\n+{high} sentences: loose {len(loose.pages)} pages, last one filled to "
        f"{last_page_fill(loose):.0%}; printed {len(printed.pages)} pages"
    )
    assert last_page_fill(loose) < 0.1
    assert len(printed.pages) == len(loose.pages) - 1


def test_the_call_to_action_address_is_a_link(a4_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(a4_pdf))
    uris = [
        annot.get_object()["/A"].get("/URI")
        for page in reader.pages
        for annot in page.get("/Annots", [])
        if "/A" in annot.get_object()
    ]
    mailto = [u for u in uris if str(u).startswith("mailto:")]
    # the address inside the call to action's sentence, and on the partner's contact line
    assert mailto == ["mailto:fausto.carbajal@miranda-partners.com"] * 2, uris


@pytest.mark.parametrize(
    "postal",
    [
        POSTAL,
        "Paseo de la Reforma 250, Piso 12, 06600 Ciudad de México",
        "Paseo de la Reforma 250, 06600 CDMX · Miranda Delphi Solutions",
    ],
    ids=["address names the firm", "address alone", "address names the firm last"],
)
def test_the_colophon_names_the_firm_once(
    content: IssueContent, postal: str, tmp_path: Path
) -> None:
    settings = settings_for("A4").model_copy(update={"postal_address": postal})
    text = pdf_text(render_pdf(content, settings), tmp_path)
    colophon = flat(text[text.index("More information") :])
    line = colophon[: colophon.index("Online edition")]
    print(f"\ncolophon: {line}")
    assert line.count("Miranda Delphi Solutions") == 1
    assert "Page " not in line


# ------------------------------------------------------------------------------------------------
# The stylesheets and fonts are parsed once per thread (print_setup), and that reuse is safe
# ------------------------------------------------------------------------------------------------


def test_an_edited_print_stylesheet_is_printed_at_the_next_render(
    content: IssueContent, tmp_path: Path
) -> None:
    """A firm restyling its print.css sees the change without restarting anything."""
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__", "web"))
    settings = settings_for("A4")
    assert "Page 1 of" in pdf_text(render_pdf(content, settings, template_dir=root), tmp_path)
    sheet = root / "pdf" / "print.css"
    sheet.write_text(sheet.read_text().replace("content: string(page-word)", 'content: "Folio"'))
    text = pdf_text(render_pdf(content, settings, template_dir=root), tmp_path)
    assert "Folio 1 of" in text and "Page 1 of" not in text


def _print_in_child(content: IssueContent, out: Path) -> None:
    out.write_bytes(render_pdf(content, settings_for("A4")))


def test_a_forked_process_leaves_the_parents_print_fonts_in_place(
    content: IssueContent, tmp_path: Path
) -> None:
    """A worker's pool processes are forked from a process that has printed (its warm-up): a
    child exiting must not delete the font files the parent's font configuration uses, and the
    child prints the same PDF as the parent."""
    settings = settings_for("A4")
    before = render_pdf(content, settings)
    fonts, _ = print_setup(TEMPLATE_ROOT, settings)
    folder = fonts._folder  # where WeasyPrint copied the @font-face fonts for this process
    assert folder is not None and any(folder.iterdir())
    child = multiprocessing.get_context("fork").Process(
        target=_print_in_child, args=(content, tmp_path / "child.pdf")
    )
    child.start()
    child.join(300)
    assert child.exitcode == 0
    assert (tmp_path / "child.pdf").read_bytes() == before
    assert any(folder.iterdir())  # the child's exit left the parent's fonts alone
    assert render_pdf(content, settings) == before


def unshared_print(content: IssueContent, settings: Settings) -> bytes:
    """render_pdf's choice of variant made with every layout run in full (no shared breaks)."""
    document = layout_pdf(content, settings)
    if len(document.pages) > 1 and last_page_fill(document) < 0.5:
        for fit in ("fit-1", "fit-2", "fit-3"):
            tighter = layout_pdf(content, settings, fit=fit)
            if len(tighter.pages) < len(document.pages):
                document = tighter
                break
    return bytes(document.write_pdf())


@pytest.mark.parametrize("extra", [0, 10], ids=["fixture", "fixture with 10 more sentences"])
def test_sharing_line_breaks_between_layouts_prints_the_same_bytes(
    content: IssueContent, extra: int
) -> None:
    """The fitted variants' layouts reuse the loose layout's line breaks (line_breaks.py): the
    PDF is byte for byte the one every layout run in full prints, spacing variants and the
    smaller type of fit-3 alike (the fixture with 10 more sentences tries more than one)."""
    issue = with_more_text(content, extra) if extra else content
    settings = settings_for("A4")
    assert render_pdf(issue, settings) == unshared_print(issue, settings)
