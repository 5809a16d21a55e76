"""The page writer: one set of blocks, written as Markdown and as HTML, every text escaped once."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from slacore.render import (
    Bullets,
    Figure,
    Heading,
    Page,
    Paragraph,
    Section,
    Strong,
    Table,
    blocks_markdown,
)


def test_html_escapes_each_text_once() -> None:
    assert Paragraph("A <&> B &amp;").html() == "<p>A &lt;&amp;&gt; B &amp;amp;</p>"
    assert (
        Heading(3, ("x < ", Strong("y & z"))).html() == "<h3>x &lt; <strong>y &amp; z</strong></h3>"
    )
    assert (
        Bullets(["<i>", Strong("**")]).html()
        == "<ul><li>&lt;i&gt;</li><li><strong>**</strong></li></ul>"
    )


def test_table_formats_values_and_aligns_numbers() -> None:
    table = Table(
        ["who | what", "value", "share"], [["a|b", Decimal(5000), Fraction(1, 4)]], "sign"
    )
    assert table.html() == (
        '<table class="sign"><thead><tr><th>who | what</th><th class="num">value</th>'
        '<th class="num">share</th></tr></thead><tbody><tr><td>a|b</td>'
        '<td class="num">$5,000</td><td class="num">25%</td></tr></tbody></table>'
    )
    assert table.markdown().splitlines()[1:] == [
        "| --- | ---: | ---: |",
        "| a\\|b | $5,000 | 25% |",
    ]
    bold = Table(["source", "n"], [[Strong("total"), 3]], numeric=(False, False))
    assert "<td><strong>total</strong></td><td>3</td>" in bold.html()
    assert bold.markdown().endswith("| **total** | 3 |")


def test_page_writes_the_same_blocks_as_markdown_and_html() -> None:
    page = Page("T <1>", css="p { color: red; }")
    page.heading(1, "Title")
    page.paragraph("")  # nothing
    page.bullets([])  # nothing
    page.add(Section("Part", [Figure('<svg id="s"/>'), Paragraph("text")]))
    assert page.markdown() == "# Title\n\n## Part\n\ntext\n"
    text = page.html()
    assert text.startswith("<!DOCTYPE html>\n")
    assert "<title>T &lt;1&gt;</title>\n<style>\np { color: red; }\n</style>" in text
    assert (
        '<body>\n<h1>Title</h1>\n<section><h2>Part</h2>\n<figure class="chart"><svg id="s"/>'
        "</figure>\n<p>text</p>\n</section>\n</body>\n</html>\n"
    ) in text


def test_a_results_markdown_is_the_markdown_of_its_blocks() -> None:
    blocks = [
        Paragraph(("Met ", Strong("12"), " of 14 <leads>")),
        Table(["rep", "late"], [["R1", "a|b"]]),
        Bullets(["one & two"]),
    ]
    assert blocks_markdown(blocks) == (
        "Met **12** of 14 <leads>\n\n| rep | late |\n| --- | --- |\n| R1 | a\\|b |\n\n- one & two\n"
    )
