"""``/arxiv bibtex <arXiv ID | rank>``: the entry for a paper of the latest digest or any arXiv ID, found the way
``/arxiv abstract`` finds it (database first, then the arXiv API); what the entry holds is tested in
tests/bot/domain/test_bibtex.py."""

from __future__ import annotations

import asyncio

import bibtexparser

from bot.domain.models import Paper
from tests.conftest import sample_papers
from tests.support import make_paper
from tests.support.fakes import caller, say


def entry_of(text: str) -> dict[str, str]:
    body = text.split("```\n", 1)[1].rsplit("\n```", 1)[0]
    library = bibtexparser.parse_string(body)
    assert library.failed_blocks == [] and len(library.entries) == 1
    return {field.key: field.value for field in library.entries[0].fields}


def test_bibtex_by_rank_answers_the_ranked_papers_entry_to_the_caller_only(core):
    say(core, "subscribe", caller("U1"))
    assert "There is no rank 1 in any digest posted in this channel" in say(core, "bibtex 1").text
    say(core, "run")
    first = next(content for _, kind, content in core.poster.messages if kind == "paper")[2]
    reply = say(core, "bibtex 1")
    assert not reply.public and reply.text.startswith(f"BibTeX for [{first}](https://arxiv.org/abs/{first}):\n```")
    fields = entry_of(reply.text)
    assert (fields["eprint"], fields["archivePrefix"], fields["url"]) == (
        first, "arXiv", f"https://arxiv.org/abs/{first}"
    )


def test_bibtex_by_id_looks_the_paper_up_with_its_doi_and_journal(core, fake_arxiv):
    fake_arxiv.add_papers([make_paper(
        "2401.00001", title="Elsewhere & beyond", authors=["Zoë Ñúñez"], doi="10.1000/x1",
        journal_ref="Phys. Rev. X 1, 2 (2024)", primary_category="hep-th", categories=["hep-th", "cs.LG"],
    )])
    fields = entry_of(say(core, "bibtex arXiv:2401.00001v2").text)
    assert fields == {
        "title": "Elsewhere \\& beyond", "author": "Zo\\\"e \\~N\\'u\\~nez", "year": "2024", "eprint": "2401.00001",
        "archivePrefix": "arXiv", "primaryClass": "hep-th", "doi": "10.1000/x1",
        "journal": "Phys. Rev. X 1, 2 (2024)", "url": "https://arxiv.org/abs/2401.00001",
    }


def test_bibtex_of_a_stored_paper_asks_arxiv_for_the_doi_the_database_does_not_keep(core, fake_arxiv):
    core.store.save_papers([Paper.from_dict(make_paper("2402.00002", title="Stored"))])
    assert "doi" not in entry_of(say(core, "bibtex 2402.00002").text)  # arXiv does not know it: the stored one
    fake_arxiv.add_papers([make_paper("2402.00002", title="Stored", doi="10.1000/later", primary_category="cs.LG")])
    assert entry_of(say(core, "bibtex 2402.00002").text)["doi"] == "10.1000/later"


def test_bibtex_refuses_what_is_not_one_id_or_rank(core):
    assert say(core, "bibtex").text == (
        "Give one arXiv ID or a rank from the latest digest, e.g. `/arxiv bibtex 3` or `/arxiv bibtex 2503.03213`."
    )
    assert "“banana” is not an arXiv ID" in say(core, "bibtex banana").text
    assert say(core, "bibtex 2401.99999").text == "arXiv has no paper 2401.99999. Check the ID."


def test_export_liked_posts_a_bib_file_of_the_channels_liked_papers_to_the_channel(core):
    say(core, "subscribe", caller("U1"))
    say(core, "run")
    posted = [content[2] for _, kind, content in core.poster.messages if kind == "paper"]
    others = [p["arxiv_id"] for p in sample_papers(12) if p["arxiv_id"] not in posted]
    nothing = "No paper got a 👍 here in the last 30 days, so there is nothing to export."
    assert say(core, "export liked").text == nothing
    asyncio.run(core.vote(caller("U2"), posted[1], "positive"))
    asyncio.run(core.vote(caller("U3"), posted[0], "positive"))
    asyncio.run(core.vote(caller("U3"), posted[1], "positive"))  # liked twice: one entry
    asyncio.run(core.vote(caller("U2"), others[0], "negative"))
    asyncio.run(core.vote(caller("U2", channel="C2"), others[1], "positive"))  # another channel's
    reply = say(core, "export liked", caller("U1"))
    assert reply.public and reply.text == "@U1 exported the 2 papers liked here in the last 30 days as BibTeX."
    assert reply.file is not None
    name, content = reply.file
    assert name.startswith("arxiv-liked-") and name.endswith("-30d.bib")
    library = bibtexparser.parse_string(content.decode("utf-8"))
    assert library.failed_blocks == []
    assert [e.fields_dict["eprint"].value for e in library.entries] == [posted[1], posted[0]]  # first liked first
    assert say(core, "export liked 1").file is not None


def test_export_liked_takes_a_bounded_number_of_days(core):
    say(core, "subscribe", caller("U1"))
    for bad in ("0", "367", "x", "3 4", "-1"):
        assert say(core, f"export liked {bad}").text == (
            "Give the number of days to look back, 1 to 366, e.g. `/arxiv export liked 90` (default 30)."
        )
