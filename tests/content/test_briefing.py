"""The plain-text briefing parser, on the firm's real issue and on damaged copies of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent, PartnerInfo, Source
from mailer.content.errors import IssueFormatError
from tests.conftest import BRIEFING

TEXT = BRIEFING.read_text(encoding="utf-8")
LINES = TEXT.split("\n")  # the fixture: one block per line, no blank lines

EXPECTED_HEADLINES = (
    "Sheinbaum takes a new direction in the fight against insecurity in Mexico.",
    "Trump’s Secretary of Security states that “there is still much work to be done” after "
    "meeting with Sheinbaum.",
    "National Guard activates eight Territorial Coordination offices to strengthen security and "
    "operational control in Mexico.",
    "Mexico and the United States strengthen collaboration on border security and economy.",
    "UNICEF urges Mexico to classify child recruitment by cartels as a criminal offense.",
    "Mexico rejects the claim that disappearances are state policy.",
)
EXPECTED_SOURCES = (
    Source(
        "Vanguardia MX",
        date(2025, 4, 5),
        "María Verza",
        "Da Sheinbaum un giro de timón en el combate a la inseguridad en México.",
    ),
    Source(
        "El País",
        date(2025, 3, 28),
        "Beatriz Guillén",
        "La secretaria de Seguridad de Trump afirma tras reunirse con Sheinbaum que “todavía hay "
        "mucho trabajo por hacer”.",
    ),
    Source(
        "La Razón",
        date(2025, 4, 4),
        "Redacción",
        "Guardia Nacional activa ocho Coordinaciones Territoriales para reforzar seguridad y "
        "control operativo en México.",
    ),
    Source(
        "Excélsior",
        date(2025, 4, 1),
        "Enrique Sánchez",
        "México y Estados Unidos refuerzan colaboración en seguridad y economía fronteriza.",
    ),
    Source(
        "El Imparcial",
        date(2025, 4, 5),
        "Vanesa Rojas",
        "Unicef exhortó a México que tipifique el reclutamiento infantil por el crimen organizado "
        "como un delito.",
    ),
    Source(
        "DW",
        date(2025, 4, 6),
        "Redacción",
        "México rechaza que desapariciones sean política de Estado.",
    ),
)
# (first words, last words) of each paragraph, item by item
EXPECTED_PARAGRAPHS = (
    (("Six years after former President López Obrador", "remains a significant challenge."),),
    (
        ("Despite Mexico’s significant security efforts", "meeting at the National Palace."),
        ("Noem, a key figure in Trump’s anti-immigration", "between customs agencies."),
    ),
    (("Mexico’s National Guard has activated eight", "headquarters between April 2-5."),),
    (("The U.S. State Department reported on a call", "while respecting sovereignty."),),
    (("UNICEF has urgently called on the Mexican", "fall on the adult recruiters."),),
    (("Mexico’s government firmly rejected allegations", "bone fragments and clothing."),),
)


SHORT_LINE_HINT = (
    "(a short line after a paragraph is read as the next headline: if it is the next item's "
    "headline, the item above has lost its source line; if it is a paragraph of this item, join "
    "it to the paragraph before it, since a paragraph between an item's first and last is longer "
    "than 40 words)"
)


def parse(text: str, path: str = "briefing.txt") -> IssueContent:
    return parse_briefing(text, path=path)


def with_lines(replace: dict[int, str | None]) -> str:
    """The fixture with some 1-based lines replaced (None deletes the line)."""
    out = []
    for number, line in enumerate(LINES, start=1):
        if number in replace:
            new = replace[number]
            if new is not None:
                out.append(new)
        else:
            out.append(line)
    return "\n".join(out)


def refused(text: str, path: str = "bad.txt") -> IssueFormatError:
    with pytest.raises(IssueFormatError) as info:
        parse_briefing(text, path=path)
    return info.value


def test_the_fixture_parses_to_the_published_issue() -> None:
    issue = parse(TEXT, path=str(BRIEFING))
    assert issue.partner == PartnerInfo(
        name="Fausto Carbajal Glass",
        email="fausto.carbajal@miranda-partners.com",
        title="Partner",
        firm="Miranda Delphi Solutions",
        pronoun="him",
    )
    assert issue.summary.startswith("President Sheinbaum’s establishment of the civilian-led")
    assert issue.summary.endswith("sensitivity these systemic human rights challenges.")
    assert issue.summary == LINES[1]
    assert tuple(i.headline for i in issue.items) == EXPECTED_HEADLINES
    assert tuple(i.source for i in issue.items) == EXPECTED_SOURCES
    assert [len(i.paragraphs) for i in issue.items] == [1, 2, 1, 1, 1, 1]
    for item, expected in zip(issue.items, EXPECTED_PARAGRAPHS, strict=True):
        for paragraph, (start, end) in zip(item.paragraphs, expected, strict=True):
            assert paragraph.startswith(start) and paragraph.endswith(end)
    # the paragraphs are the fixture's lines, whole and untouched
    assert issue.items[1].paragraphs == (LINES[6], LINES[7])
    assert issue.call_to_action == (
        "If you would like to talk to Fausto about our services in risk and security consulting, "
        "please email him at fausto.carbajal@miranda-partners.com"
    )
    assert issue.more_info_url == "https://miranda-partners.com/jvs-delphi-solutions/"
    assert issue.pdf_name == "MI-SecurityChatter-040925"
    assert issue.pdf_filename == "MI-SecurityChatter-040925.pdf"
    assert issue.date == date(2025, 4, 9)
    assert issue.newsletter == "Security Chatter"
    assert issue.title == "Security Chatter — 9 April 2025"
    assert issue.slug == "security-chatter-2025-04-09"


def test_crlf_blank_lines_bom_and_indentation_change_nothing() -> None:
    messy = "\ufeff" + "\r\n\r\n".join("  " + line + " " for line in LINES) + "\r\n\r\n"
    assert parse(messy) == parse(TEXT)


def test_old_mac_line_endings_change_nothing() -> None:
    assert parse("\r".join(LINES)) == parse(TEXT)


def test_straight_quotes_are_kept_as_written() -> None:
    straight = TEXT.replace("’", "'").replace("“", '"').replace("”", '"')
    issue = parse(straight)
    assert issue.items[1].headline == (
        'Trump\'s Secretary of Security states that "there is still much work to be done" after '
        "meeting with Sheinbaum."
    )
    assert issue.items[1].source.title.endswith('"todavía hay mucho trabajo por hacer".')
    assert [len(i.paragraphs) for i in issue.items] == [1, 2, 1, 1, 1, 1]
    assert issue.partner == parse(TEXT).partner


def test_a_colon_inside_the_original_title_stays_in_the_title() -> None:
    issue = parse(
        with_lines(
            {5: "Vanguardia MX, 4/05/25, María Verza: Sheinbaum: un giro de timón: análisis."}
        )
    )
    assert issue.items[0].source == Source(
        "Vanguardia MX", date(2025, 4, 5), "María Verza", "Sheinbaum: un giro de timón: análisis."
    )


def test_a_link_after_the_original_title_becomes_the_source_url() -> None:
    issue = parse(
        with_lines(
            {5: "Vanguardia MX, 4/05/25, María Verza: Da Sheinbaum. https://vanguardia.com.mx/a"}
        )
    )
    assert issue.items[0].source == Source(
        "Vanguardia MX",
        date(2025, 4, 5),
        "María Verza",
        "Da Sheinbaum.",
        "https://vanguardia.com.mx/a",
    )


@pytest.mark.parametrize(
    ("title", "expected_title", "url"),
    [
        # A Markdown link pasted after the title, or the title itself linked: the link, not text.
        (
            "Da Sheinbaum. [link](https://vanguardia.com.mx/a)",
            "Da Sheinbaum.",
            "https://vanguardia.com.mx/a",
        ),
        (
            "[Da Sheinbaum.](https://vanguardia.com.mx/a)",
            "Da Sheinbaum.",
            "https://vanguardia.com.mx/a",
        ),
        ("Da Sheinbaum [enlace](<https://x.mx/a_(b)>)", "Da Sheinbaum", "https://x.mx/a_(b)"),
        # Brackets that are not a link stay the title's.
        ("Da [sic] Sheinbaum.", "Da [sic] Sheinbaum.", None),
    ],
)
def test_a_markdown_link_in_a_source_line_becomes_the_source_url(
    title: str, expected_title: str, url: str | None
) -> None:
    issue = parse(with_lines({5: f"Vanguardia MX, 4/05/25, María Verza: {title}"}))
    source = issue.items[0].source
    assert (source.title, source.url) == (expected_title, url)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("4/5/25", date(2025, 4, 5)),
        ("04/05/25", date(2025, 4, 5)),
        ("12/31/2024", date(2024, 12, 31)),
    ],
)
def test_source_dates_in_every_accepted_spelling(written: str, expected: date) -> None:
    issue = parse(with_lines({5: f"Vanguardia MX, {written}, María Verza: Título."}))
    assert issue.items[0].source.date == expected


def test_a_partner_who_is_her() -> None:
    text = with_lines(
        {
            1: "By Ana Lucía Ortega, Senior Partner, Miranda Delphi Solutions",
            22: "If you would like to talk to Ana Lucía about our services, please email her at "
            "ana.ortega@miranda-partners.com.",
        }
    )
    assert parse(text).partner == PartnerInfo(
        name="Ana Lucía Ortega",
        email="ana.ortega@miranda-partners.com",
        title="Senior Partner",
        firm="Miranda Delphi Solutions",
        pronoun="her",
    )


def test_a_partner_who_is_them_with_a_contraction() -> None:
    text = with_lines(
        {
            1: "By Sam Rivera, Partner, Miranda Delphi Solutions",
            22: "If you’d like to talk to Sam about this, please email them at sam@example.org",
        }
    )
    partner = parse(text).partner
    assert (partner.pronoun, partner.email) == ("them", "sam@example.org")


def test_the_newsletter_name_can_be_given() -> None:
    issue = parse_briefing(TEXT, newsletter="Mexico Watch")
    assert (issue.title, issue.slug) == ("Mexico Watch — 9 April 2025", "mexico-watch-2025-04-09")


def test_the_date_comes_from_the_pdf_name_before_the_file_name() -> None:
    assert parse(TEXT, path="security-chatter-2025-05-01.txt").date == date(2025, 4, 9)
    undated = with_lines({24: "Download PDF: MI-SecurityChatter"})
    assert parse(undated, path="security-chatter-2025-05-01.txt").date == date(2025, 5, 1)


def test_no_date_anywhere_is_refused_at_the_pdf_line() -> None:
    error = refused(with_lines({24: "Download PDF: MI-SecurityChatter"}), path="issue.txt")
    assert error.line == 24
    assert str(error) == (
        "issue.txt:24: cannot tell the issue's date: the PDF name 'MI-SecurityChatter' does not "
        "end in -MMDDYY and the file name has no YYYY-MM-DD"
    )


HEADLINE_3 = "'National Guard activates eight Territorial Coordination offices to strengthen…'"
SOURCE = "`Outlet, M/D/YY, Author: Original title`"


@pytest.mark.parametrize(
    ("damage", "line", "message"),
    [
        pytest.param(
            {1: None},
            1,
            "expected the byline `By NAME, TITLE, FIRM` as the first line of a plain-text "
            "briefing (a Markdown issue starts with a `---` line), found 'President "
            "Sheinbaum’s establishment of the civilian-led National Operations…'",
            id="missing byline",
        ),
        pytest.param(
            {12: None},
            12,
            f"expected a source line {SOURCE} after the item {HEADLINE_3}, found 'Mexico and the "
            "United States strengthen collaboration on border security and…' " + SHORT_LINE_HINT,
            id="item without source in the middle",
        ),
        pytest.param(
            {21: None},
            21,
            f"expected a source line {SOURCE} after the item 'Mexico rejects the claim that "
            "disappearances are state policy.', found 'If you would like to talk to Fausto about "
            "our services in risk and security…'",
            id="last item without source",
        ),
        pytest.param(
            {5: "Vanguardia MX, April 5th 2025, María Verza: Da Sheinbaum un giro de timón."},
            5,
            f"expected a source line {SOURCE} after the item 'Sheinbaum takes a new direction in "
            "the fight against insecurity in Mexico.', found 'Vanguardia MX, April 5th 2025, María "
            "Verza: Da Sheinbaum un giro de timón.' ('April 5th 2025' is not a date written M/D/YY "
            "(month first), `5 April 2025`, `April 5, 2025`, `5 de abril de 2025` or `2025-04-05`)",
            id="date spelled out",
        ),
        pytest.param(
            {12: "La Razón, 4/04/25, Redacción Guardia Nacional activa ocho Coordinaciones."},
            12,
            f"expected a source line {SOURCE} after the item {HEADLINE_3}, found 'La Razón, "
            "4/04/25, Redacción Guardia Nacional activa ocho Coordinaciones.' (no colon between "
            "the author and the original title)",
            id="source without colon",
        ),
        pytest.param(
            {12: "La Razón - Redacción"},
            12,
            f"expected a source line {SOURCE} after the item {HEADLINE_3}, found 'La Razón - "
            "Redacción' " + SHORT_LINE_HINT,
            id="source unrecognisable",
        ),
        pytest.param(
            {9: "El País, 2/30/25, Beatriz Guillén: La secretaria de Seguridad."},
            9,
            "bad date '2/30/25' in the source line 'El País, 2/30/25, Beatriz Guillén: La "
            "secretaria de Seguridad.': expected a real date written M/D/YY (month first), "
            "`5 April 2025`, `April 5, 2025`, `5 de abril de 2025` or `2025-04-05`",
            id="impossible date",
        ),
        pytest.param(
            {4: None},
            4,
            "the item 'Sheinbaum takes a new direction in the fight against insecurity in Mexico.' "
            "(line 3) has no paragraph between its headline and its source line",
            id="item without paragraph",
        ),
        pytest.param(
            {22: None},
            22,
            "expected the call to action `If you would like to talk to NAME …, please email "
            "him|her|them at ADDRESS` (in Spanish `Si desea hablar con NAME …, escríbale a "
            "ADDRESS`) after the last item, found 'More information can be found at…'",
            id="missing call to action",
        ),
        pytest.param(
            {22: "If you would like to talk to Fausto about our services, please email him."},
            22,
            "the call to action must end with the partner's email address: expected `If you "
            "would like to talk to NAME …, please email him|her|them at ADDRESS` (in Spanish "
            "`Si desea hablar con NAME …, escríbale a ADDRESS`), found 'If you "
            "would like to talk to Fausto about our services, please email him.'",
            id="call to action without email",
        ),
        pytest.param(
            {24: None},
            23,
            "the file ends without `Download PDF: NAME` (e.g. MI-SecurityChatter-040925)",
            id="missing PDF name",
        ),
        pytest.param(
            {23: "Download PDF: MI-SecurityChatter-040925", 24: "Subscribe now!"},
            24,
            "expected only `More information can be found at: URL` and `Download PDF: NAME` after "
            "the call to action, found 'Subscribe now!'",
            id="unexpected trailing line",
        ),
    ],
)
def test_a_damaged_briefing_is_refused_at_the_right_line(
    damage: dict[int, str | None], line: int, message: str
) -> None:
    error = refused(with_lines(damage), path="issues/bad.txt")
    assert (error.path, error.line) == ("issues/bad.txt", line)
    assert str(error) == f"issues/bad.txt:{line}: {message}"


def test_line_numbers_count_blank_lines_and_crlf() -> None:
    lines = with_lines({12: None}).split("\n")
    error = refused("\r\n\r\n".join(lines))  # every block on an odd physical line
    assert error.line == 2 * 12 - 1
    assert "found 'Mexico and the United States strengthen" in str(error)


def test_an_empty_file_is_refused() -> None:
    assert str(refused("\ufeff \r\n\r\n")) == (
        "bad.txt:1: the file is empty: expected a briefing starting with the byline"
    )


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda lines: lines[:2], id="ends after the summary"),
        pytest.param(lambda lines: lines[:4], id="ends inside an item"),
        pytest.param(lambda lines: lines[:21], id="ends after the last item"),
    ],
)
def test_a_truncated_briefing_is_refused_at_its_last_line(
    cut: Callable[[list[str]], list[str]],
) -> None:
    kept = cut(LINES)
    error = refused("\n".join(kept))
    assert error.line == len(kept)
    assert str(error).startswith(f"bad.txt:{len(kept)}: the file ends ")


def test_a_short_last_paragraph_is_a_paragraph_not_a_headline() -> None:
    issue = parse(with_lines({4: LINES[3] + "\nMore on this next week."}))
    assert issue.items[0].paragraphs == (LINES[3], "More on this next week.")
    assert len(issue.items) == 6


def test_only_a_paragraph_between_the_first_and_the_last_must_be_longer_than_40_words() -> None:
    # A short line after a paragraph reads as the next item's headline (its source line lost),
    # so there it is refused; right after the headline it cannot be a headline, and before the
    # source line it is the last paragraph: both may be short. docs/ISSUES.md says exactly this.
    short = " ".join(LINES[3].split()[:38]) + "."
    opening = parse(with_lines({4: short + "\n" + LINES[3]}))
    assert opening.items[0].paragraphs == (short, LINES[3])
    assert len(opening.items) == 6
    error = refused(with_lines({7: LINES[6] + "\n" + short}))
    assert error.line == 8
    assert "expected a source line" in str(error)
    doc = " ".join((Path(__file__).parents[2] / "docs" / "ISSUES.md").read_text().split())
    assert "a paragraph between the item's first and its last must be longer than 40 words" in doc
    assert "Every paragraph but the last must be longer" not in doc


@pytest.mark.parametrize(
    "byline",
    [
        "BY FAUSTO CARBAJAL GLASS, PARTNER, MIRANDA DELPHI SOLUTIONS",
        "By: Fausto Carbajal Glass, Partner, Miranda Delphi Solutions",
        "Por Fausto Carbajal Glass, Partner, Miranda Delphi Solutions",
        "por: Fausto Carbajal Glass, Partner, Miranda Delphi Solutions",
    ],
)
def test_a_byline_in_capitals_with_a_colon_or_in_spanish_names_the_partner(byline: str) -> None:
    issue = parse(with_lines({1: byline}))
    assert issue.partner.name.casefold() == "fausto carbajal glass"
    assert issue.partner.firm.casefold() == "miranda delphi solutions"


@pytest.mark.parametrize(
    "written",
    [
        "4/5/25",
        "04/05/2025",
        "5 April 2025",
        "5 Apr 2025",
        "April 5, 2025",
        "Apr. 5, 2025",
        "5 de abril de 2025",
        "5 abril 2025",
        "2025-04-05",
    ],
)
def test_a_source_date_written_out_or_in_iso_is_read(written: str) -> None:
    issue = parse(with_lines({5: f"Vanguardia MX, {written}, María Verza: Da Sheinbaum un giro"}))
    source = issue.items[0].source
    assert (source.outlet, source.date, source.author, source.title) == (
        "Vanguardia MX",
        date(2025, 4, 5),
        "María Verza",
        "Da Sheinbaum un giro",
    )


def test_a_written_out_date_that_does_not_exist_names_its_line() -> None:
    error = refused(with_lines({5: "Vanguardia MX, 31 April 2025, María Verza: Da Sheinbaum"}))
    assert str(error).startswith("bad.txt:5: bad date '31 April 2025' in the source line")


def test_a_source_without_an_author_has_none() -> None:
    # An unsigned article (a wire story, an editorial) is cited as `Outlet, date: Title`.
    issue = parse(with_lines({5: "Vanguardia MX, 4/05/25: Da Sheinbaum un giro"}))
    source = issue.items[0].source
    assert (source.outlet, source.date, source.author, source.title) == (
        "Vanguardia MX",
        date(2025, 4, 5),
        "",
        "Da Sheinbaum un giro",
    )


SPANISH_TRAILER = {
    22: "Si desea hablar con Fausto sobre nuestros servicios de consultoría en riesgos y "
    "seguridad, escríbale a fausto.carbajal@miranda-partners.com",
    23: "Más información en: https://miranda-partners.com/jvs-delphi-solutions/",
    24: "Descargar PDF: MI-SecurityChatter-040925",
}


def test_a_spanish_edition_is_read_as_the_english_one() -> None:
    text = with_lines(
        {1: "Por Fausto Carbajal Glass, Socio, Miranda Delphi Solutions", **SPANISH_TRAILER}
    )
    issue = parse(text)
    assert (issue.partner.name, issue.partner.title, issue.partner.email) == (
        "Fausto Carbajal Glass",
        "Socio",
        "fausto.carbajal@miranda-partners.com",
    )
    assert issue.call_to_action == SPANISH_TRAILER[22]
    assert issue.more_info_url == "https://miranda-partners.com/jvs-delphi-solutions/"
    assert (issue.pdf_name, issue.date) == ("MI-SecurityChatter-040925", date(2025, 4, 9))
    assert len(issue.items) == 6


@pytest.mark.parametrize(
    "cta",
    [
        "Si le gustaría hablar con Ana, escríbale a: ana@miranda-partners.com.",
        "Para hablar con Ana sobre estos temas, escriba a ana@miranda-partners.com",
        "If you’d like to speak with Ana about this, email her at: ana@miranda-partners.com",
    ],
)
def test_a_call_to_action_worded_otherwise_still_gives_the_partners_address(cta: str) -> None:
    issue = parse(with_lines({1: "By Ana Ruiz, Partner, Miranda Delphi Solutions", 22: cta}))
    assert (issue.partner.name, issue.partner.email) == ("Ana Ruiz", "ana@miranda-partners.com")


@pytest.mark.parametrize(
    "pdf",
    [
        "Download PDF: MI-SecurityChatter-041625.pdf",
        "Download PDF: https://miranda-partners.com/pdf/MI-SecurityChatter-041625.pdf",
        "Download PDF: <https://miranda-partners.com/pdf/MI-SecurityChatter-041625.pdf>",
        "Download PDF MI-SecurityChatter-041625",
    ],
)
def test_the_pdf_line_with_a_file_name_or_its_address_names_the_pdf(pdf: str) -> None:
    issue = parse(with_lines({24: pdf}))
    assert (issue.pdf_name, issue.date) == ("MI-SecurityChatter-041625", date(2025, 4, 16))


def test_a_summary_in_several_paragraphs_keeps_them_all() -> None:
    # A long line after the summary cannot be a headline (at most 40 words): it is more summary.
    second = "The bilateral agenda now turns on tariffs, extraditions and airspace. " * 5
    issue = parse(with_lines({2: LINES[1] + "\n\n" + second.strip()}))
    assert issue.summary == LINES[1] + "\n\n" + second.strip()
    assert tuple(i.headline for i in issue.items) == EXPECTED_HEADLINES


def test_a_first_item_without_a_headline_says_so_at_its_source_line() -> None:
    error = refused(with_lines({3: None}))
    assert error.line == 4
    assert "the first item's headline is missing" in str(error)


def test_a_short_paragraph_inside_an_item_is_refused_saying_how_to_keep_it() -> None:
    short = "García Harfuch said the unit would answer to civilian command."
    error = refused(with_lines({4: LINES[3] + "\n" + short + "\n" + LINES[3]}))
    assert error.line == 5
    assert "join it to the paragraph before it" in str(error)
    assert "if it is the next item's headline, the item above has lost its source line" in str(
        error
    )


@pytest.mark.parametrize("label", ["Source: ", "Fuente: ", "SOURCE:"])
def test_a_source_line_written_with_a_label_is_read_without_it(label: str) -> None:
    # The Markdown issue's `Source:` habit (or the Spanish `Fuente:`) in a briefing would
    # otherwise print "Source: Source: Vanguardia MX" in every edition.
    issue = parse(with_lines({5: label + LINES[4]}))
    assert issue.items[0].source == EXPECTED_SOURCES[0]
