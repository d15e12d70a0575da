"""Learning end to end: the prefilter in the daily pipeline (cold start, routing, recall sample, a criteria
change), reactions that move papers in the next digest, feedback reset, per-member rankings by DM,
explanations, criteria suggestions and what ``/arxiv stats`` reports. arXiv and the LLM are in-memory fakes;
the LLM judges papers by keywords as the OpenAI stand-in does (tests.support.openai_server.KEYWORDS)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from typing import Any

import pytest

from adapters.discord.markup import DiscordMarkup
from bot.chat.commands import CommandCore, parse
from bot.digest.pipeline import RunResult, run_digest
from bot.domain.models import Announcement, Paper, Profile
from bot.domain.platform import Reply
from bot.domain.settings import Settings
from bot.domain.taxonomy import feed_key
from bot.learning import training as learning
from storage.store import Store
from tests.conftest import DAY, default_profile
from tests.support import make_paper
from tests.support.fakes import FakeChat, caller, say
from tests.support.openai_server import is_tldr_request

ON_TOPIC = ["mixture of experts", "quantization", "pruning", "sparse", "low-rank", "kv cache", "compression"]
OFF_TOPIC = ["protein", "galaxy", "traffic", "poetry", "soil", "auction", "glacier", "vaccine", "opera", "tariff",
             "wetland", "cricket", "violin", "harbor", "lichen", "mortgage"]


def synthetic_day(day: int, n: int = 80, seed: int = 0) -> list[Paper]:
    """A day of papers: a third about model compression (three keywords: the stand-in selects them when
    their novelty passes), some with one keyword (judged irrelevant), the rest about other fields."""
    rng = random.Random(seed * 1000 + day)
    papers = []
    for i in range(n):
        kind = i % 6
        if kind in (0, 3):
            words = rng.sample(ON_TOPIC, 3) + rng.sample(OFF_TOPIC, 1)
        elif kind == 1:
            words = rng.sample(ON_TOPIC, 1) + rng.sample(OFF_TOPIC, 3)
        else:
            words = rng.sample(OFF_TOPIC, 4)
        title = f"On {words[0]} and {words[1]}"
        abstract = f"We study {', '.join(words)} with new methods and report results on {words[-1]} benchmarks."
        papers.append(Paper(f"2504.{day * 1000 + i:05d}", title, ("A. Author",), abstract, ("cs.LG",)))
    return papers


def run_day(
    llm: FakeChat, settings: Settings, store: Store, profile: Profile, date: dt.date, papers: list[Paper]
) -> RunResult:
    announcement = Announcement(date, tuple(papers), len(papers), "test")
    store.save_announcement(feed_key(profile.categories), announcement)
    return asyncio.run(
        run_digest(settings, store, profile, fetcher=None, chat_factory=lambda: llm,
                   announcement=announcement)  # type: ignore[arg-type]
    )


def days(n: int) -> list[dt.date]:
    start = dt.date(2025, 4, 1)
    return [start + dt.timedelta(days=i) for i in range(n)]


@pytest.fixture
def learner(core_settings) -> Any:
    settings = core_settings(prefilter_min_labels=150, batch_size=40)
    store = Store.open(settings.database_url)
    yield settings, store, default_profile(store, settings)
    store.close()


def sent_to_llm(llm: Any) -> set[str]:
    return {pid for ids in llm.paper_ids_per_request for pid in ids}


def selected_by_llm(llm: Any, papers: list[Paper], profile: Profile) -> set[str]:
    found = set()
    for p in papers:
        relevance, novelty = llm.expected({"arxiv_id": p.arxiv_id, "title": p.title, "abstract": p.abstract})
        if relevance >= profile.min_relevance and novelty >= profile.min_novelty:
            found.add(p.arxiv_id)
    return found


def train_on_four_days(llm: FakeChat, settings: Settings, store: Store, profile: Profile, dates: list[dt.date]) -> Any:
    """Run the first four of ``dates``: enough labels for a prefilter with a cutoff, which this returns."""
    for i, date in enumerate(dates[:4]):
        run_day(llm, settings, store, profile, date, synthetic_day(i + 1))
    model = store.latest_model(profile.id)
    assert model is not None and model.cutoff is not None, model and model.metrics
    return model


def test_cold_start_sends_every_paper_and_records_why(learner, fake_llm):
    settings, store, profile = learner
    papers = synthetic_day(1)
    result = run_day(fake_llm, settings, store, profile, days(1)[0], papers)
    assert result.digest is not None and result.digest.prefiltered == 0
    assert sent_to_llm(fake_llm) == {p.arxiv_id for p in papers}
    assert {d.route for d in store.decisions(profile.id, days(1)[0]).values()} == {"llm"}
    model = store.latest_model(profile.id)
    assert model is not None and model.version == 1 and model.cutoff is None
    assert "80 labelled papers" in model.metrics["reason"] and "starts at 150" in model.metrics["reason"]


def test_a_training_logs_info_only_when_the_prefilter_starts_or_stops_skipping_papers(learner, fake_llm, caplog):
    settings, store, profile = learner
    caplog.set_level("DEBUG", logger="bot.learning.training")
    for i, date in enumerate(days(3)):
        run_day(fake_llm, settings, store, profile, date, synthetic_day(i + 1))
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.getMessage().startswith("prefilter ")]
    assert [level for level, _ in lines] == ["INFO", "INFO", "DEBUG"], lines
    assert "starts at 150" in lines[0][1] and "cutoff" in lines[1][1]  # cold; then skipping; then as before


@pytest.mark.slow
def test_a_trained_prefilter_skips_papers_keeps_the_selected_ones_and_samples_below_its_cutoff(learner, fake_llm):
    settings, store, profile = learner
    dates = days(5)
    model = train_on_four_days(fake_llm, settings, store, profile, dates)
    assert model.train_seconds > 0 and model.metrics["recall"] >= 0.95  # speed is measured in bench/, not asserted

    fake_llm.clear()
    papers = synthetic_day(5)
    result = run_day(fake_llm, settings, store, profile, dates[4], papers)
    digest = result.digest
    assert digest is not None and digest.prefiltered > 0
    sent = sent_to_llm(fake_llm)
    assert len(sent) < len(papers) * 0.7  # a third is on topic; most of the rest never reaches the LLM
    selected = selected_by_llm(fake_llm, papers, profile)
    assert len(selected & sent) >= 0.9 * len(selected)
    assert {r.paper.arxiv_id for r in digest.ranked} == selected & sent
    routes = store.decisions(profile.id, dates[4])
    assert sum(d.route == "sample" for d in routes.values()) >= learning.MIN_SAMPLE
    assert {pid for pid, d in routes.items() if d.route != "skipped"} == sent
    assert any("prefilter" in note for note in digest.notes)
    assert any("Its cutoff keeps an estimated 9" in note for note in digest.notes)  # the conformal bound, ≥ 95%
    assert learning.report(store, profile, dates[0]).recall_bound >= 0.95
    assert digest.scanned == len(sent) and not digest.unscored and result.status == "done"

    fake_llm.clear()  # a re-run keeps the day's routes and asks the LLM nothing
    again = run_day(fake_llm, settings, store, profile, dates[4], papers)
    assert fake_llm.requests == [] and again.digest is not None and again.digest.prefiltered == digest.prefiltered


@pytest.mark.slow
def test_a_criteria_change_sends_everything_until_a_model_for_the_new_criteria_is_trained(learner, fake_llm):
    settings, store, profile = learner
    dates = days(8)
    old = train_on_four_days(fake_llm, settings, store, profile, dates)
    judged = len(sent_to_llm(fake_llm))  # what the LLM judged of the four days' papers

    store.set_criteria(profile.id, profile.criteria + "\n\n5. Compression of vision models.", author="U1")
    changed = store.profile_by_id(profile.id)
    fake_llm.clear()
    papers = synthetic_day(5)
    result = run_day(fake_llm, settings, store, changed, dates[4], papers)
    assert result.digest is not None and result.digest.prefiltered == 0
    assert sent_to_llm(fake_llm) == {p.arxiv_id for p in papers}
    new = store.latest_model(profile.id)
    assert new is not None and new.version == old.version + 1 and new.criteria_version == changed.criteria_version
    # The old criteria's labels still train the model, but do not count for the new criteria's cold start.
    assert new.cutoff is None and new.labels == len(papers)
    assert "labelled papers of these criteria" in new.metrics["reason"]
    examples, _ = learning.examples(store, changed)
    old_labels = [e for e in examples if not e.current]
    assert len(old_labels) == judged and all(e.weight <= learning.OLD_CRITERIA_WEIGHT * learning.MAX_SAMPLE_WEIGHT
                                             for e in old_labels)
    assert {e.weight for e in old_labels if e.stands_for == 1.0} == {learning.OLD_CRITERIA_WEIGHT}

    for i, date in enumerate(dates[5:], start=6):  # the cutoff needs 19 selected papers on two judged days
        run_day(fake_llm, settings, store, changed, date, synthetic_day(i))
    assert store.latest_model(profile.id).cutoff is not None  # type: ignore[union-attr]


# --- feedback in the channel -------------------------------------------------------------------------


def topic_paper(pid: str, topic: str, *, title: str | None = None) -> dict[str, Any]:
    """A paper the stand-in selects (MoE keywords), about a distinct sub-topic the reactions can tell apart."""
    return make_paper(
        pid, title=title or f"Mixture of experts for {topic}",
        abstract=f"We propose sparse mixture of experts with quantization for {topic}. The {topic} results "
                 f"improve {topic} baselines.",
        categories=["cs.LG"], announce_type="new",
    )


@pytest.fixture
def channel(make_core, fake_arxiv, fake_llm) -> Any:
    core = make_core()
    say(core, "subscribe", caller("U1"))
    return core, fake_arxiv, fake_llm


def post_day(core: CommandCore, arxiv: Any, fake_llm: Any, date: dt.date, papers: list[dict[str, Any]]) -> list[str]:
    """Post a day whose papers all get R 9 · N 8, so only feedback can change their order."""
    for paper in papers:
        fake_llm.overrides[paper["arxiv_id"]] = (9, 8)
    arxiv.set_day(date, papers)
    assert "posted" in say(core, "run").text.lower() or core.poster.messages  # type: ignore[attr-defined]
    profile = core.store.profile_by_id(core.store.get_subscription("chat", "C1").profile_id)  # type: ignore[union-attr]
    notes = core.store.decisions(profile.id, date)
    return [pid for pid, _ in sorted(((p, n.rank) for p, n in notes.items() if n.rank), key=lambda x: x[1])]


def test_a_liked_topic_moves_up_and_a_disliked_one_down_the_next_day(channel):
    core, arxiv, llm = channel
    first = post_day(core, arxiv, llm, DAY, [topic_paper("2503.00001", "protein folding"),
                                             topic_paper("2503.00002", "speech recognition")])
    assert first == ["2503.00001", "2503.00002"]
    asyncio.run(core.vote(caller("U2"), "2503.00001", "negative"))  # protein folding: not for us
    asyncio.run(core.vote(caller("U3"), "2503.00002", "positive"))  # speech: yes

    nxt = DAY + dt.timedelta(days=1)
    order = post_day(core, arxiv, llm, nxt, [topic_paper("2503.00011", "protein design"),
                                              topic_paper("2503.00012", "graph coloring"),
                                              topic_paper("2503.00013", "speech synthesis")])
    # Same LLM scores, so the feed order would stand; the reactions reverse the ends.
    assert order == ["2503.00013", "2503.00012", "2503.00011"]
    decisions = core.store.decisions(core.store.get_subscription("chat", "C1").profile_id, nxt)  # type: ignore[union-attr]
    assert decisions["2503.00013"].adjustment > 0 > decisions["2503.00011"].adjustment
    assert abs(decisions["2503.00013"].adjustment) <= core.settings.feedback_weight
    # Graph coloring shares only the template words with both: it barely moves.
    assert abs(decisions["2503.00012"].adjustment) < decisions["2503.00013"].adjustment / 4


def test_explanations_name_the_criteria_topic_and_the_feedback(channel):
    core, arxiv, llm = channel
    post_day(core, arxiv, llm, DAY, [topic_paper("2503.00002", "speech recognition")])
    asyncio.run(core.vote(caller("U3"), "2503.00002", "positive"))
    nxt = DAY + dt.timedelta(days=1)
    post_day(core, arxiv, llm, nxt, [topic_paper("2503.00013", "speech synthesis")])
    sub = core.store.get_subscription("chat", "C1")
    why = core.store.decisions(sub.profile_id, nxt)["2503.00013"].explanation  # type: ignore[union-attr]
    assert why.startswith("matches topic") and "↑ like 1 paper the channel liked" in why
    posted = [m for m in core.poster.messages if m[1] == "paper"]  # type: ignore[attr-defined]
    assert posted  # the explanation travels with the paper to every renderer
    profile = core.store.profile_by_id(sub.profile_id)  # type: ignore[union-attr]
    # The liked title reached the prompt's static part (it is fixed for the day).
    assert "Liked: Mixture of experts for speech recognition" in core.store.get_run(profile.id, nxt).prompt_examples  # type: ignore[union-attr]
    system = [s for s in llm.systems if not is_tldr_request(s)][-1]  # the last scoring request's
    assert "Liked: Mixture of experts for speech recognition" in system


def test_feedback_reset_and_off_give_the_llm_order_back(channel):
    core, arxiv, llm = channel
    post_day(core, arxiv, llm, DAY, [topic_paper("2503.00001", "protein folding"),
                                     topic_paper("2503.00002", "speech recognition")])
    asyncio.run(core.vote(caller("U3"), "2503.00002", "positive"))
    assert "1 liked paper and 0 disliked papers count" in say(core, "feedback").text
    refused = say(core, "feedback reset", caller("U9"))
    assert not refused.public and "workspace admins" in refused.text
    reply = say(core, "feedback reset", caller("U1", admin=True))
    assert reply.public and "reset the feedback" in reply.text
    assert "0 liked papers" in say(core, "feedback").text and "since the reset" in say(core, "feedback").text
    nxt = DAY + dt.timedelta(days=1)
    order = post_day(core, arxiv, llm, nxt, [topic_paper("2503.00011", "protein design"),
                                              topic_paper("2503.00013", "speech synthesis")])
    assert order == ["2503.00011", "2503.00013"]  # the feed's order: the old like no longer counts
    assert len(core.store.feedback_for("chat", "C1")) == 1  # nothing was deleted

    asyncio.run(core.vote(caller("U3"), "2503.00013", "positive"))
    say(core, "feedback off", caller("U1", admin=True))
    later = nxt + dt.timedelta(days=1)
    order = post_day(core, arxiv, llm, later, [topic_paper("2503.00021", "protein design"),
                                                topic_paper("2503.00023", "speech synthesis")])
    assert order == ["2503.00021", "2503.00023"]


def test_each_member_gets_their_own_ranking_by_direct_message(channel):
    core, arxiv, llm = channel
    papers = [topic_paper("2503.00001", "protein folding"), topic_paper("2503.00002", "speech recognition"),
              topic_paper("2503.00003", "protein structure", title="Sparse experts for protein structure"),
              topic_paper("2503.00004", "speech enhancement", title="Sparse experts for speech enhancement")]
    post_day(core, arxiv, llm, DAY, papers)
    asyncio.run(core.vote(caller("U2"), "2503.00001", "positive"))  # U2 likes protein papers
    asyncio.run(core.vote(caller("U3"), "2503.00002", "positive"))  # U3 likes speech papers

    def ranking(user: str) -> tuple[Reply, list[str]]:
        reply = say(core, "me", caller(user))
        lines = [line for line in reply.text.splitlines() if line[:1].isdigit()]
        return reply, [next(p["arxiv_id"] for p in papers if p["title"] in line) for line in lines]

    u2, order2 = ranking("U2")
    u3, order3 = ranking("U3")
    assert u2.direct and u3.direct and not u2.public
    assert order2.index("2503.00003") < order2.index("2503.00004")
    assert order3.index("2503.00004") < order3.index("2503.00003")
    assert "your 1 reaction" in u2.text
    nobody, _ = ranking("U4")
    assert "You have not reacted" in nobody.text


def test_a_title_in_my_ranking_is_escaped_once(channel):
    core, arxiv, llm = channel
    post_day(core, arxiv, llm, DAY, [topic_paper("2503.00001", "protein folding", title="Q*-learning for *proteins*")])
    reply = asyncio.run(core.execute(caller("U2"), parse("me"), DiscordMarkup()))
    assert "[Q\\*-learning for \\*proteins\\*](" in reply.text


def test_me_before_any_digest_says_so(channel):
    core, _, _ = channel
    assert "No digest has been posted" in say(core, "me").text


SUGGESTION = {
    "criteria": "1. Mixture of experts for speech.\n2. Quantization of speech models.",
    "changes": ["Narrowed topic 1 to speech: 3 liked papers were about speech."],
}


def test_suggest_proposes_an_edit_that_an_admin_applies_and_undo_reverts(channel):
    core, arxiv, llm = channel
    post_day(core, arxiv, llm, DAY, [topic_paper(f"2503.0000{i}", t) for i, t in
                                     enumerate(["speech recognition", "speech synthesis", "protein folding"], 1)])
    assert "at least 3" in say(core, "suggest").text
    for i, kind in ((1, "positive"), (2, "positive"), (3, "negative")):
        asyncio.run(core.vote(caller("U2"), f"2503.0000{i}", kind))
    before = core.store.profile_by_id(core.store.get_subscription("chat", "C1").profile_id)  # type: ignore[union-attr]

    llm.replies.append("This is not JSON.")
    assert "could not be read" in say(core, "suggest").text

    llm.replies.append(json.dumps(SUGGESTION))
    proposal = say(core, "suggest")
    assert "Suggestion 1" in proposal.text and "Narrowed topic 1" in proposal.text
    assert "suggest apply 1" in proposal.text
    assert core.store.profile_by_id(before.id).criteria == before.criteria  # nothing applied yet

    assert not say(core, "suggest apply 1", caller("U9")).public  # refused: not an admin
    assert "waits for you" in say(core, "suggest apply 1", caller("U1", admin=True)).text
    applied = say(core, "criteria apply", caller("U1", admin=True))
    assert applied.public and f"v{before.criteria_version + 1}" in applied.text
    assert core.store.profile_by_id(before.id).criteria == SUGGESTION["criteria"]
    assert "applied already" in say(core, "suggest apply 1", caller("U1", admin=True)).text
    assert "no suggestion 7" in say(core, "suggest apply 7", caller("U1", admin=True)).text
    say(core, "criteria undo", caller("U1", admin=True))
    assert core.store.profile_by_id(before.id).criteria == before.criteria


def test_stats_report_feedback_moves_and_the_prefilter(channel, monkeypatch):
    core, arxiv, llm = channel
    post_day(core, arxiv, llm, DAY, [topic_paper("2503.00001", "protein folding"),
                                     topic_paper("2503.00002", "speech recognition")])
    asyncio.run(core.vote(caller("U3"), "2503.00002", "positive"))
    post_day(core, arxiv, llm, DAY + dt.timedelta(days=1), [topic_paper("2503.00011", "protein design"),
                                                             topic_paper("2503.00013", "speech synthesis")])

    class FixedDate(dt.date):
        @classmethod
        def today(cls) -> dt.date:
            return DAY + dt.timedelta(days=2)

    monkeypatch.setattr("bot.chat.commands.dt.date", FixedDate)
    text = say(core, "stats").text
    assert "Feedback raised 1 paper and lowered 1 in the last 7 days" in text
    assert "“Mixture of experts for speech synthesis” from #2 to #1" in text
    assert "Prefilter: learning: the labels hold only one kind of paper yet" in text  # every paper was selected
