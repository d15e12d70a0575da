"""A criteria change waits as a draft: its cost is estimated, the latest digest is previewed under it, then an
admin applies or discards it (``criteria preview|apply|discard``, the buttons under the replies)."""

from __future__ import annotations

import asyncio
from typing import Any

import prompts
from bot.chat.commands import CommandCore
from bot.domain.platform import Reply
from tests.conftest import DAY
from tests.support import make_paper
from tests.support.fakes import PlainMarkup, caller, say

ADMIN = caller("U1", admin=True)
NEW = "Only papers about sparse attention."


def posted(make_core: Any, fake_arxiv: Any, fake_llm: Any, first: str | None = None, **settings: Any) -> CommandCore:
    """A channel whose digest of DAY is posted: four relevant papers ranked 1-4 by their forced scores (with the
    LLM; ``first``: the criteria before the change)."""
    papers = [make_paper(f"2503.0000{i}", title=f"Mixture of experts {i}", categories=["cs.LG"]) for i in range(1, 6)]
    for i, scores in enumerate([(9, 9), (9, 8), (8, 8), (8, 7), (2, 2)], start=1):
        fake_llm.overrides[f"2503.0000{i}"] = scores
    fake_arxiv.set_day(DAY, papers)
    core = make_core(**settings)
    say(core, "subscribe", caller("U1"))
    if first is not None:
        core.store.set_criteria(core.store.get_subscription("chat", "C1").profile_id, first)  # type: ignore[union-attr]
        say(core, "threshold 1 1", ADMIN)  # the local scorer's scores are modest
    say(core, "run")
    return core


def save(core: CommandCore, text: str = NEW) -> Reply:
    return asyncio.run(core.save_criteria(ADMIN, text, PlainMarkup()))


def press(core: CommandCore, action: str, who: Any = ADMIN) -> Reply:
    return asyncio.run(core.press(who, action, PlainMarkup()))


def criteria(core: CommandCore) -> str:
    profile_id = core.store.get_subscription("chat", "C1").profile_id  # type: ignore[union-attr]
    return core.store.profile_by_id(profile_id).criteria


def test_a_saved_change_waits_with_its_estimate_and_the_three_buttons(make_core, fake_arxiv, fake_llm):
    core = posted(make_core, fake_arxiv, fake_llm)
    fake_llm.clear()
    reply = save(core)
    assert not reply.public and [a.label for a in reply.actions] == ["Preview", "Apply", "Discard"]
    assert reply.text.startswith("Your criteria change (35 characters) waits for you: nothing changes until you "
                                 "apply it. Previewing re-ranks the digest of ")
    assert "5 papers of 5 not scored under these criteria yet, about $0.000" in reply.text
    assert fake_llm.requests == [] and criteria(core) == prompts.default_criteria()  # nothing spent or applied


def test_preview_asks_only_the_missing_judgments_and_shows_what_enters_leaves_and_moves(
    make_core, fake_arxiv, fake_llm
):
    core = posted(make_core, fake_arxiv, fake_llm)
    save(core)
    fake_llm.overrides.update({"2503.00001": (3, 3), "2503.00004": (10, 10), "2503.00005": (8, 6)})
    fake_llm.clear()
    posts = len(core.poster.messages)  # type: ignore[attr-defined]
    shown = press(core, "criteria preview")
    assert [a.label for a in shown.actions] == ["Apply", "Discard"]
    lines = shown.text.splitlines()
    assert lines[0] == f"*The digest of {DAY:%a %d %B} under the new criteria*"
    assert lines[1].startswith("↑ #4 → #1: [Mixture of experts 4](https://arxiv.org/abs/2503.00004)")
    assert any(line.startswith("＋ enters at #4: ") and "experts 5" in line for line in lines)
    assert any(line.startswith("－ leaves (was #1): ") and "experts 1" in line for line in lines)
    assert "2 papers keep their place" in lines[-1] and "nothing is posted" in lines[-1]
    assert sum(map(len, fake_llm.paper_ids_per_request)) == 5
    assert len(core.poster.messages) == posts  # type: ignore[attr-defined]
    assert criteria(core) == prompts.default_criteria()

    fake_llm.clear()
    again = save(core)  # the same text again: its judgments are stored, so previewing is free now
    assert "every paper is scored under these criteria already, so it costs nothing" in again.text
    press(core, "criteria preview")
    assert fake_llm.requests == []


def test_apply_makes_a_new_version_posts_nothing_and_undo_goes_back(make_core, fake_arxiv, fake_llm):
    core = posted(make_core, fake_arxiv, fake_llm)
    posts = len(core.poster.messages)  # type: ignore[attr-defined]
    save(core)
    applied = press(core, "criteria apply")
    assert applied.public and applied.text.startswith("@U1 changed the criteria (v2, 35 characters).")
    assert criteria(core) == NEW and len(core.poster.messages) == posts  # type: ignore[attr-defined]
    assert "No criteria change is waiting here; `/arxiv criteria edit` makes one." in press(core, "criteria apply").text
    assert "v1 is back in force" in say(core, "criteria undo", ADMIN).text


def test_discard_forgets_the_change(make_core, fake_arxiv, fake_llm):
    core = posted(make_core, fake_arxiv, fake_llm)
    save(core)
    assert press(core, "criteria discard").text == "Discarded the criteria change: the criteria stay v1."
    assert "No criteria change is waiting" in say(core, "criteria preview", ADMIN).text
    assert "No criteria change is waiting" in say(core, "criteria discard", ADMIN).text
    assert criteria(core) == prompts.default_criteria()


def test_only_admins_may_preview_apply_or_discard(make_core, fake_arxiv, fake_llm):
    core = posted(make_core, fake_arxiv, fake_llm)
    save(core)
    for action in ("criteria preview", "criteria apply", "criteria discard"):
        refused = press(core, action, caller("U2"))
        assert "Only workspace admins" in refused.text and not refused.public, action
    assert criteria(core) == prompts.default_criteria()
    assert core.store.get_draft(core.store.get_subscription("chat", "C1").profile_id) is not None  # type: ignore[union-attr]


def test_a_button_the_bot_never_made_does_nothing(make_core, fake_arxiv, fake_llm):
    core = posted(make_core, fake_arxiv, fake_llm)
    save(core)
    for action in ("criteria undo", "threshold 1 1", "", "criteria apply\x00"):
        assert press(core, action).text == "That button is not one of this bot's, so nothing was done.", action
    assert criteria(core) == prompts.default_criteria()


def test_without_an_llm_key_the_local_scorer_previews_for_free(make_core, fake_arxiv, fake_llm):
    core = posted(make_core, fake_arxiv, fake_llm, "Mixture of experts.", openai_api_key=None)
    reply = save(core, "Mixture of experts, and sparse attention.")
    assert "the local scorer scores 5 papers for free" in reply.text
    shown = press(core, "criteria preview")
    assert "scoring cost free" in shown.text or "scoring cost $0" in shown.text


def test_a_change_before_any_digest_offers_apply_and_discard_only(make_core):
    core = make_core()
    say(core, "subscribe", caller("U1"))
    reply = save(core)
    assert "No digest has been posted here yet" in reply.text
    assert [a.label for a in reply.actions] == ["Apply", "Discard"]
    assert "v2" in press(core, "criteria apply").text


def test_suggest_apply_waits_too_and_apply_marks_the_suggestion(make_core, fake_arxiv, fake_llm):
    core = posted(make_core, fake_arxiv, fake_llm)
    profile_id = core.store.get_subscription("chat", "C1").profile_id  # type: ignore[union-attr]
    number = core.store.add_suggestion(profile_id, NEW, "narrower", "U1")
    waiting = say(core, f"suggest apply {number}", ADMIN)
    assert "waits for you" in waiting.text and waiting.actions
    applied = press(core, "criteria apply")
    assert applied.public and f"applied suggestion {number} (v2" in applied.text
    assert "applied already (criteria v2)" in say(core, f"suggest apply {number}", ADMIN).text


def test_the_preview_reads_the_posted_days_papers_after_the_categories_changed(make_core, fake_arxiv, fake_llm):
    core = posted(make_core, fake_arxiv, fake_llm)
    say(core, "categories cs.CL", ADMIN)
    save(core)
    shown = press(core, "criteria preview")
    assert "No paper enters, leaves or moves." in shown.text and "4 papers keep their place" in shown.text
