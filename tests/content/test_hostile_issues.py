"""Hostile issue files: YAML alias bombs, path-like slugs, fields far past any real issue, links
that are not web addresses. Each is refused with the line or the field named, and nothing is
stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.bounded_yaml import MAX_YAML_ALIASES, MAX_YAML_DEPTH
from mailer.content.document import LIMITS, MAX_ITEMS
from mailer.content.errors import IssueFormatError
from mailer.content.issues import detect_format, import_issue_file, parse_issue
from mailer.content.models import Issue, Partner
from tests.conftest import BRIEFING

MARKDOWN = (Path(__file__).parent.parent / "data" / "issues" / "security-chatter.md").read_text(
    encoding="utf-8"
)
BRIEFING_TEXT = BRIEFING.read_text(encoding="utf-8")

# 400 bytes that stand for 9**7 (4.8 million) strings once the aliases are expanded.
ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""


def with_front_matter(replace: str, by: str) -> str:
    assert replace in MARKDOWN
    return MARKDOWN.replace(replace, by, 1)


def refused(text: str) -> IssueFormatError:
    with pytest.raises(IssueFormatError) as info:
        parse_issue(text, path="hostile.md")
    return info.value


def test_a_yaml_alias_bomb_is_refused_before_it_is_expanded() -> None:
    """Hostile input: nested anchors, the partner's name pointing at the last one."""
    bomb = with_front_matter(
        "partner:\n  name: Fausto Carbajal Glass", ALIAS_BOMB + "partner:\n  name: *g"
    )
    assert len(ALIAS_BOMB) < 500
    error = refused(bomb)
    assert error.line == 2 and "uses 55 YAML aliases (*name)" in str(error)  # 6 × 9 + 1
    assert f"at most {MAX_YAML_ALIASES} aliases" in str(error)
    recursive = with_front_matter("title: Security", "loop: &l [*l]\ntitle: Security")
    assert "YAML aliases" in str(refused(recursive))
    # A modest anchor is still fine (editors may reuse an address).
    reused = with_front_matter(
        "  email: fausto.carbajal@miranda-partners.com",
        "  email: &mail fausto.carbajal@miranda-partners.com",
    )
    content, _ = parse_issue(reused, path="ok.md")
    assert content.partner.email == "fausto.carbajal@miranda-partners.com"


DEEP = 100_000
NESTED_FRONT_MATTER = {
    "flow-lists": "slug: " + "[" * DEEP + "]" * DEEP,
    "flow-mappings": "slug: " + "{a: " * DEEP + "b" + "}" * DEEP,
    "block-lists": "slug:\n" + "".join(" " * i + "- \n" for i in range(1, 3_000)),
    "block-mappings": "slug:\n" + "".join(" " * i + "k:\n" for i in range(1, 3_000)),
    "mixed": "slug: " + "[{a: " * DEEP + "b" + "}]" * DEEP,
}


@pytest.mark.parametrize("nested", NESTED_FRONT_MATTER.values(), ids=NESTED_FRONT_MATTER.keys())
def test_front_matter_nested_past_the_bound_is_refused_at_its_line(nested: str) -> None:
    """Hostile input: a value nesting lists or mappings 100,000 deep crashed the YAML composer
    (RecursionError) instead of being refused like an alias bomb."""
    text = with_front_matter("summary: >-", nested + "\nsummary: >-")
    value_line = text.split("\n").index(nested.split("\n")[0]) + 1
    error = refused(text)
    assert error.line is not None and value_line <= error.line <= value_line + MAX_YAML_DEPTH
    assert f"nests lists or mappings more than {MAX_YAML_DEPTH} levels deep" in str(error)
    assert str(error).startswith(f"hostile.md:{error.line}: ")


def test_mailer_issue_import_names_the_file_and_line_of_nesting_past_the_bound(
    session: Session, tmp_path: Path
) -> None:
    """`mailer issue import` printed some 3,000 lines of traceback (a RecursionError) for it;
    now the command fails with the import error that `mailer` prints as one line."""
    nested = NESTED_FRONT_MATTER["flow-lists"]
    text = with_front_matter("summary: >-", nested + "\nsummary: >-")
    path = tmp_path / "deep.md"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["issue", "import", str(path)])
    assert isinstance(result.exception, IssueFormatError), result.exception
    line = text.split("\n").index(nested) + 1
    assert f"deep.md:{line}: the front matter nests lists or mappings" in str(result.exception)


def test_front_matter_nested_within_the_bound_is_read() -> None:
    """The partner's mapping, or a value nested as deep as the bound allows, is no error of
    nesting (an unknown or ill-typed key is still refused as such)."""
    within = "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1)
    error = refused(with_front_matter("summary: >-", f"slug: {within}\nsummary: >-"))
    assert "nests" not in str(error) and "`slug:` must be text, found list" in str(error)
    content, _ = parse_issue(MARKDOWN, path="ok.md")
    assert content.partner.name == "Fausto Carbajal Glass"


def test_a_path_like_slug_is_refused_at_its_line() -> None:
    """Hostile input: `slug: ../../admin/logout?x=1#q`, which went into archive links."""
    text = with_front_matter("pdf_name:", "slug: ../../admin/logout?x=1#q\npdf_name:")
    error = refused(text)
    slug_line = text.split("\n").index("slug: ../../admin/logout?x=1#q") + 1
    assert error.line == slug_line
    assert "`slug:` may only hold lower-case letters a-z, digits and single hyphens" in str(error)
    for bad in ("Security-Chatter", "a--b", "-a", "a_b", "ñandú", "a" * 121):
        assert "slug" in str(refused(with_front_matter("pdf_name:", f"slug: {bad}\npdf_name:")))
    ok, _ = parse_issue(with_front_matter("pdf_name:", "slug: chatter-2025-04-09\npdf_name:"))
    assert ok.slug == "chatter-2025-04-09"


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            "  name: Fausto Carbajal Glass",
            "  name: " + "F" * 800_000,
            "the partner's `name:` is 800,000",
        ),
        ("  title: Partner", "  title: " + "P" * 201, "the partner's `title:` is 201"),
        ("title: Security Chatter — 9 April 2025", "title: " + "T" * 301, "`title:` is 301"),
        ("newsletter: Security Chatter", "newsletter: " + "N" * 201, "`newsletter:` is 201"),
        ("pdf_name: MI-SecurityChatter-040925", "pdf_name: " + "p" * 201, "`pdf_name:` is 201"),
        (
            "more_info_url: https://miranda-partners.com/jvs-delphi-solutions/",
            "more_info_url: javascript:alert(document.cookie)",
            "`more_info_url:` must be a web address starting with https://",
        ),
    ],
    ids=["partner-name-800k", "partner-title", "title", "newsletter", "pdf-name", "js-url"],
)
def test_front_matter_fields_past_their_limits_are_refused(
    replace: str, by: str, message: str
) -> None:
    assert message in str(refused(with_front_matter(replace, by)))


def test_item_fields_and_counts_past_their_limits_are_refused_in_both_formats() -> None:
    headline = "Sheinbaum takes a new direction in the fight against insecurity in Mexico."
    long_md = MARKDOWN.replace(f"## {headline}", "## " + "H" * 600, 1)
    assert "the headline of item 1 is 600 characters long; at most 500" in str(refused(long_md))
    assert headline in BRIEFING_TEXT
    long_txt = BRIEFING_TEXT.replace(headline, "H" * 600, 1)
    with pytest.raises(IssueFormatError, match="the headline of item 1 is 600 characters"):
        parse_issue(long_txt, path="hostile.txt")
    first_source = "la inseguridad en México."
    assert first_source in MARKDOWN
    js_source = MARKDOWN.replace(first_source, first_source + " <javascript:alert(1)>", 1)
    assert "the source url of item 1 must be a web address" in str(refused(js_source))
    body = MARKDOWN.split("\n## ", 1)
    item = "## " + body[1].split("\n## ", 1)[0]
    many = body[0] + ("\n" + item.rstrip("\n") + "\n") * (MAX_ITEMS + 1)
    assert f"at most {MAX_ITEMS} are allowed" in str(refused(many))
    assert LIMITS["headline"] == 500


def test_an_old_mac_markdown_file_is_read_as_markdown() -> None:
    """Found by the fuzzer: CR-only line ends made a Markdown file look like a briefing."""
    cr = MARKDOWN.replace("\n", "\r")
    assert detect_format(cr) == "markdown"
    assert parse_issue(cr)[0] == parse_issue(MARKDOWN)[0]


def test_a_refused_file_stores_nothing(session: Session, tmp_path: Path) -> None:
    before = [session.scalar(select(func.count()).select_from(m)) for m in (Issue, Partner)]
    for name, text in (
        (
            "bomb.md",
            with_front_matter(
                "partner:\n  name: Fausto Carbajal Glass", ALIAS_BOMB + "partner:\n  name: *g"
            ),
        ),
        ("slug.md", with_front_matter("pdf_name:", "slug: ../../admin/logout?x=1#q\npdf_name:")),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(IssueFormatError, match=name):
            import_issue_file(session, path)
        session.rollback()
    after = [session.scalar(select(func.count()).select_from(m)) for m in (Issue, Partner)]
    assert after == before


PATH_LIKE_PDF_NAMES = (
    "../../../../tmp/trial_pwned",
    "/tmp/x",  # noqa: S108 (a name to refuse, no file)
    "..\\..\\x",
    "C:evil",
    "..",
    ".hidden",
    "MI-Security\u202efdp.exe",  # a right-to-left override disguising the extension
    "MI-Security\u200bChatter",
)


@pytest.mark.parametrize("bad", PATH_LIKE_PDF_NAMES)
def test_a_pdf_name_that_is_not_one_file_name_is_refused_at_its_line(
    bad: str, tmp_path: Path
) -> None:
    """Hostile input: `pdf_name: "../../../../tmp/trial_pwned"` made `issue preview` write
    /tmp/trial_pwned.pdf and every message's attachment carry that path."""
    line = f"pdf_name: '{bad}'"
    text = with_front_matter("pdf_name: MI-SecurityChatter-040925", line)
    path = tmp_path / "issue.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IssueFormatError) as info:
        parse_issue(text, path=str(path))
    error = info.value
    assert error.line == text.split("\n").index(line) + 1
    assert str(path) in str(error)
    assert "`pdf_name:` must be one file name" in str(error)


@pytest.mark.parametrize("bad", ["..-SecurityChatter-040925", "MI-Security\u202eChatter-040925"])
def test_a_briefing_pdf_name_that_is_not_one_file_name_is_refused_at_its_line(bad: str) -> None:
    text = BRIEFING_TEXT.replace("Download PDF: MI-SecurityChatter-040925", f"Download PDF: {bad}")
    assert bad in text
    with pytest.raises(IssueFormatError) as info:
        parse_issue(text, path="hostile.txt")
    assert info.value.line == text.split("\n").index(f"Download PDF: {bad}") + 1
    assert "must name one file" in str(info.value)


def test_an_ordinary_pdf_name_still_imports() -> None:
    for good in ("MI-SecurityChatter-040925", "Security Chatter 9 April 2025", "Boletín_v2.1"):
        text = with_front_matter("pdf_name: MI-SecurityChatter-040925", f"pdf_name: {good}")
        assert parse_issue(text)[0].pdf_filename == f"{good}.pdf"


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85"])
@pytest.mark.parametrize("source", ["markdown", "briefing"])
def test_a_control_character_is_refused_at_its_line_and_column(char: str, source: str) -> None:
    """A NUL pasted into a headline used to be stored (SQLite) and mailed as "�"; PostgreSQL
    cannot store it at all. Refused wherever it is, naming where."""
    text = MARKDOWN if source == "markdown" else BRIEFING_TEXT
    lines = text.splitlines()
    target = next(n for n, line in enumerate(lines) if len(line) > 20 and n > 3)
    lines[target] = lines[target][:5] + char + lines[target][5:]
    error = refused("\n".join(lines) + "\n")
    assert error.line == target + 1
    assert str(error).startswith(f"hostile.md:{target + 1}: column 6: a control character")
    assert f"U+{ord(char):04X}" in str(error)


def test_words_line_and_page_breaks_are_read_as_line_ends() -> None:
    """Word's "Text only" writes Shift+Enter as VT and a page break as FF: not refused."""
    with_breaks = BRIEFING_TEXT.replace("\n\n", "\n\x0c\n", 1).replace("\n", "\x0b", 1)
    content, fmt = parse_issue(with_breaks, path="word.txt")
    assert fmt == "briefing"
    assert content == parse_issue(BRIEFING_TEXT, path="word.txt")[0]
