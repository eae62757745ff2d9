"""Reading an issue's inline Markdown into styled runs: what is a mark, what is a link, and what
stays text (a briefing's text, links to other schemes, HTML)."""

from __future__ import annotations

import pytest

from mailer.content.inline import Run, bullet_points, plain_text, runs


def test_emphasis_strong_code_and_links_become_marks() -> None:
    assert runs("Some **bold**, *italic*, `co*de` and a [link](https://ok.example/x).") == [
        Run("Some "),
        Run("bold", strong=True),
        Run(", "),
        Run("italic", em=True),
        Run(", "),
        Run("co*de", code=True),
        Run(" and a "),
        Run("link", href="https://ok.example/x"),
        Run("."),
    ]


def test_nested_emphasis_keeps_the_outer_mark_after_the_inner_one_closes() -> None:
    assert runs("*a **b** *c* d*") == [
        Run("a ", em=True),
        Run("b", em=True, strong=True),
        Run(" c d", em=True),
    ]
    assert runs("***both*** none") == [Run("both", em=True, strong=True), Run(" none")]


def test_autolinks_and_mailto_are_links() -> None:
    assert runs("<https://a.example/p> or <ana@firm.example>") == [
        Run("https://a.example/p", href="https://a.example/p"),
        Run(" or "),
        Run("ana@firm.example", href="mailto:ana@firm.example"),
    ]


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](vbscript:msgbox)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](file:///etc/passwd)",
        "[x](ftp://files.example/a)",
        "<javascript:alert(1)>",
    ],
)
def test_only_http_https_and_mailto_links_are_links(source: str) -> None:
    """Any other scheme is not a link: the reader sees the text as it was written."""
    assert all(run.href is None for run in runs(source))
    assert "".join(run.text for run in runs(source)) == source


def test_html_is_text_and_escapes_are_read() -> None:
    assert runs("<b>bold?</b> <script>x</script>") == [Run("<b>bold?</b> <script>x</script>")]
    assert plain_text(r"\*not emphasis\* &amp; 5 &lt; 6") == "*not emphasis* & 5 < 6"


def test_a_briefings_text_is_literal() -> None:
    """`markup="text"`: asterisks, brackets and entities are what the briefing says."""
    text = "A *starred* word, [a](https://x.example) and &amp;"
    assert runs(text, "text") == [Run(text)]
    assert plain_text(text, "text") == text


def test_plain_text_is_what_a_reader_sees() -> None:
    assert plain_text("A **bold\n  claim** and a [link](https://x.example/a).") == (
        "A bold claim and a link."
    )
    assert plain_text("") == ""


def test_a_list_paragraph_has_points_and_reads_as_them() -> None:
    assert bullet_points("- one *a*\n- two") == ["one *a*", "two"]
    assert bullet_points("not - a list") == []
    assert bullet_points("- a briefing line", "text") == []  # the briefing has no lists
    assert plain_text("Lead.\n\n- one *a*\n- two") == "Lead. one a two"
