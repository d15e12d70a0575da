"""The digest files: the seed's Markdown layout and the JSON twin."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace

from adapters.files import digest_json, render_markdown, write_digest
from bot.domain.models import Digest, Judgment, Paper, RankedPaper, Usage
from tests.support.digests import digest_of


def make_digest(**changes) -> Digest:
    papers = [Paper(f"2503.0000{i}", f"Title [{i}]", ("Ann A", "Bo B"), f"Abstract {i}") for i in range(1, 4)]
    ranked = [
        RankedPaper(papers[0], Judgment(papers[0].arxiv_id, 10, 9, "Matches MoE."), 1),
        RankedPaper(papers[1], Judgment(papers[1].arxiv_id, 8, 7, ""), 2),
    ]
    values = dict(
        date=dt.date(2025, 3, 6),
        model="gpt-4o",
        total_arxiv=3,
        scanned=2,
        unscored=[(papers[2], "no usable score from the LLM after 3 attempts")],
        usage=Usage(31316, 20480, 4414, 12),
        cost_usd=0.0867,
        prompt="PROMPT TEXT",
        price=(2.5, 1.25, 10.0),
        notes=["A note."],
    )
    return digest_of(ranked, **{**values, **changes})


def test_markdown_follows_the_seed_layout():
    md = render_markdown(make_digest())
    lines = md.splitlines()
    assert lines[0] == "# Personalized Daily Arxiv Papers 03/06/2025"
    assert "| *[gpt-4o]* | Prompt | Cached (part of prompt) | Completion | Total |" in lines
    assert "| **Token** | 31316 | 20480 | 4414 | 35730 |" in lines
    assert any(line.startswith("| **Cost** |") and "$0.09" in line for line in lines)
    order = [md.index(s) for s in ("Total arXiv papers: 3", "Total scanned papers: 2", "Total relevant papers: 2")]
    assert order == sorted(order)
    assert "1. [Title \\[1\\]](#user-content-link1)\n**Authors:** Ann A, Bo B" in md
    section = md[md.index("## 1. [") :]
    assert section.startswith('## 1. [Title \\[1\\]](https://arxiv.org/abs/2503.00001) <a id="link1"></a>')
    for field in (
        "**ArXiv ID:** 2503.00001",
        "**Abstract:** Abstract 1",
        "**Comment:** Matches MoE.",
        "**Relevance:** 10\n**Novelty:** 9",
    ):
        assert field in section
    assert md.index("## 1. [") < md.index("## 2. [") < md.index("## Papers without a score")
    assert md.rstrip().endswith("# Paper Selection Prompt\n\nPROMPT TEXT")
    assert "> A note." in md


def test_every_contents_anchor_has_its_section():
    md = render_markdown(make_digest())
    anchors = re.findall(r"\(#user-content-(link\d+)\)", md)
    assert anchors == ["link1", "link2"]
    assert all(f'<a id="{a}"></a>' in md for a in anchors)


def test_approximate_and_unknown_cost_are_said_plainly():
    md = render_markdown(make_digest(approximate=True, cost_usd=None, price=None))
    assert "Approximate scores" in md
    assert "cost unknown" in md and "$0.00" not in md


def test_files_are_written_by_month_with_a_json_twin(tmp_path):
    md_path, json_path = write_digest(make_digest(), tmp_path)
    assert md_path == tmp_path / "2025-03" / "2025-03-06-output.md"
    data = json.loads(json_path.read_text())
    assert data["date"] == "2025-03-06"
    assert (data["total_arxiv_papers"], data["total_scanned_papers"], data["total_relevant_papers"]) == (3, 2, 2)
    assert data["usage"]["cached_tokens"] == 20480 and data["cost_usd"] == 0.0867
    first = data["papers"][0]
    assert {k: first[k] for k in ("arxiv_id", "relevance", "novelty", "score", "comment")} == {
        "arxiv_id": "2503.00001",
        "relevance": 10,
        "novelty": 9,
        "score": 19,
        "comment": "Matches MoE.",
    }
    assert set(first) >= {"arxiv_id", "title", "authors", "abstract", "comment", "relevance", "novelty", "score"}
    assert data["unscored"][0]["arxiv_id"] == "2503.00003"


def test_affiliations_from_the_feed_are_shown_apart_from_the_names():
    paper = Paper(
        "2503.17407",
        "A Survey",
        ("Ana Araujo", "Breno Costa", "Przemysław Nowak"),
        "Abstract.",
        affiliations=(
            "University of Brasilia Brazil, The University of Melbourne Australia",
            "",
            "University of Warsaw",
        ),
    )
    digest = digest_of([RankedPaper(paper, Judgment(paper.arxiv_id, 9, 8, ""), 1)])

    md = render_markdown(digest)
    record = json.loads(json.dumps(digest_json(digest)))

    assert md.count("**Authors:** Ana Araujo, Breno Costa, Przemysław Nowak") == 2  # contents and section
    assert (
        "**Affiliations:** Ana Araujo: University of Brasilia Brazil, The University of Melbourne Australia; "
        "Przemysław Nowak: University of Warsaw"
    ) in md
    assert record["papers"][0]["authors"] == ["Ana Araujo", "Breno Costa", "Przemysław Nowak"]
    assert record["papers"][0]["affiliations"] == [
        "University of Brasilia Brazil, The University of Melbourne Australia",
        "",
        "University of Warsaw",
    ]


def test_papers_without_affiliations_get_no_affiliation_line():
    md = render_markdown(make_digest())

    assert "Affiliations" not in md


def test_tldrs_stand_under_the_titles_and_the_pass_has_rows_and_keys_of_its_own():
    digest = make_digest(tldr_usage=Usage(2000, 0, 500, 1), tldr_cost_usd=0.01)
    digest.ranked[0] = replace(digest.ranked[0], tldr="They show one thing.")
    markdown = render_markdown(digest)
    assert '<a id="link1"></a>\n\n**TL;DR:** They show one thing.\n\n**ArXiv ID:** 2503.00001' in markdown
    assert "**TL;DR:**" not in markdown.split('<a id="link2"></a>')[1]  # no TL;DR, no line
    assert "| *of which TL;DR tokens* | 2000 | 0 | 500 | 2500 |" in markdown
    assert "| *of which TL;DR cost* | $0.0050 | $0.00 | $0.0050 | $0.01 |" in markdown
    data = digest_json(digest)
    assert [p["tldr"] for p in data["papers"]] == ["They show one thing.", ""]
    assert data["tldr_usage"]["total_tokens"] == 2500 and data["tldr_cost_usd"] == 0.01
    assert "TL;DR" not in render_markdown(make_digest())  # a digest without the pass has no rows for it
