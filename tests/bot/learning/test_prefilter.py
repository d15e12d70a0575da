"""The learned prefilter: real-data quality, cold start, criteria changes, safe storage, and its cutoff math."""

from __future__ import annotations

import datetime as dt
import io
import random

import numpy as np
import pytest

import prompts
from bench import shared_data
from bot.learning import evaluation, prefilter
from bot.learning.prefilter import Example, PrefilterModel

CRITERIA = prompts.default_criteria()
START = dt.date(2025, 3, 3)

# Words that make a paper look like the criteria's topics or plainly off-topic; both kinds share filler.
_ON = ["mixture", "experts", "sparse", "routing", "transformer", "pruning", "quantization", "representation",
       "kv", "cache", "attention"]
_OFF = ["crop", "yield", "farm", "clinical", "hospital", "traffic", "retail", "weather", "soil", "patient"]
_FILLER = ["we", "study", "method", "results", "data", "model", "show", "approach", "propose", "evaluate", "task"]


def _papers(rng: random.Random, day: dt.date, n: int, positives: int, *, current: bool = True,
            start: int = 0) -> list[Example]:
    found = []
    for i in range(n):
        label = int(i < positives)
        words = rng.sample(_ON if label else _OFF, 4) + rng.sample(_FILLER, 5)
        found.append(Example(
            f"{day:%y%m}.{start + i:05d}", " ".join(words[:3]).title(), " ".join(rng.sample(words, len(words))),
            label=label, day=day, current=current,
        ))
    return found


def _days(count: int, per_day: int, positives: int, *, current: bool = True, seed: int = 0,
          start: int = 0) -> list[Example]:
    rng = random.Random(seed)
    return [e for d in range(count)
            for e in _papers(rng, START + dt.timedelta(days=d), per_day, positives, current=current, start=start)]


# --- real data --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_replay() -> evaluation.ReplayResult:
    if not (shared_data.DATA / shared_data.DW).exists():
        pytest.skip(f"the shared test data is not at {shared_data.DATA} (set DIGEST_SHARED_DATA to its folder)")
    rows = evaluation.load_jsonl([shared_data.DATA / shared_data.DW], 8, 7)
    criteria = (shared_data.DATA / "daizedong_prompt_3924e50" / "paper_topics.txt").read_text(encoding="utf-8")
    return evaluation.replay(rows, criteria, recall=0.95, sample=0.05, seed=0, first=True)


@pytest.mark.slow
def test_on_twelve_real_days_from_an_empty_database_the_prefilter_starts_early_and_skips_papers(shared_replay):
    """The figures are bench/prefilter_replay.py's to report; this checks the replay's shape on real data."""
    result = shared_replay
    assert len(result.days) == 12 and result.days[0].cold and result.days[0].train_labels == 0
    assert all(d.share == 1.0 and d.recall == 1.0 for d in result.days if d.cold)  # cold days send everything
    assert result.active.days >= 8  # from the first days with 19 selections on two judged days
    assert result.active.share < 1.0 and result.active.recall >= 0.9


# --- cold start and criteria changes ----------------------------------------------------------------


def test_too_few_labels_of_the_current_criteria_means_no_cutoff_and_says_why():
    training = prefilter.train(_days(5, 40, 8), CRITERIA, min_labels=300)
    assert training.cutoff is None and training.labels == 200
    assert "200 labelled papers" in training.metrics["reason"] and "300" in training.metrics["reason"]
    assert training.model is not None  # it still learns; it only does not route yet


def test_enough_labels_but_few_selections_on_the_held_back_days_means_no_cutoff():
    training = prefilter.train(_days(8, 50, 2), CRITERIA, min_labels=300)
    assert training.labels == 400
    assert training.cutoff is None
    assert "16 selected papers on 8 judged days" in training.metrics["reason"]
    assert f"needs {prefilter.needed_positives(0.95)}" in training.metrics["reason"]


def test_with_enough_held_back_selections_a_cutoff_is_chosen():
    training = prefilter.train(_days(8, 50, 8), CRITERIA, min_labels=300)
    assert training.cutoff is not None
    assert training.metrics["held_back_positives"] >= prefilter.needed_positives(0.95)
    assert training.metrics["held_back_days"] == 8  # every judged day, not only the latest
    assert 0.95 <= training.metrics["recall_bound"] < 1
    assert training.metrics["recall"] >= 0.95


def test_labels_of_older_criteria_train_the_model_but_do_not_count_toward_starting_or_the_cutoff():
    old = _days(8, 50, 8, current=False, seed=1, start=500)
    now = _days(8, 30, 1, seed=2)  # 240 labels, 4 selections on the held-back days
    training = prefilter.train(old + now, CRITERIA, min_labels=200)
    assert training.labels == 240 and training.positives == 8
    assert training.cutoff is None and "needs 19" in training.metrics["reason"]
    docs = [prefilter.document(e.title, e.abstract) for e in now]
    alone = prefilter.train(now, CRITERIA, min_labels=200).model
    assert not np.allclose(training.model.scores(docs), alone.scores(docs))  # the old labels did train it

    not_enough = prefilter.train(old + now, CRITERIA, min_labels=300)
    assert "240 labelled papers" in not_enough.metrics["reason"]  # the 400 old ones are not counted

    # The same old labels marked current would have been enough: they are what makes the difference.
    relabelled = [Example(e.arxiv_id, e.title, e.abstract, e.label, e.day) for e in old]
    assert prefilter.train(relabelled + now, CRITERIA, min_labels=200).cutoff is not None

    # Held back: only the current labels of the held-back days are scored to choose the cutoff.
    enough_now = _days(8, 30, 6, seed=3)
    chosen = prefilter.train(old + enough_now, CRITERIA, min_labels=200)
    assert chosen.cutoff is not None
    held_days = chosen.metrics["held_back_days"]
    assert chosen.metrics["held_back_papers"] == 30 * held_days
    assert chosen.metrics["held_back_positives"] == 6 * held_days


# --- storage ----------------------------------------------------------------------------------------


def test_a_stored_model_scores_exactly_as_the_trained_one():
    model = prefilter.train(_days(8, 50, 8), CRITERIA).model
    docs = [prefilter.document(e.title, e.abstract) for e in _days(1, 30, 10, seed=9)]
    restored = PrefilterModel.from_bytes(model.to_bytes())
    assert restored.vocabulary == model.vocabulary and restored.topics == model.topics
    assert (restored.prior, restored.negatives) == (model.prior, model.negatives) and model.prior > 0
    np.testing.assert_array_equal(restored.scores(docs), model.scores(docs))


_unpickled: list[str] = []


def _record(what: str) -> str:
    _unpickled.append(what)
    return what


class _Payload:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_record, ("code ran",))


def test_loading_a_model_never_unpickles():
    model = prefilter.train(_days(8, 50, 8), CRITERIA).model
    buffer = io.BytesIO()
    np.savez(buffer, vocabulary=np.array([_Payload()], dtype=object), idf=model.idf, coef=model.coef,
             intercept=np.array([model.intercept]), topics=np.array(model.topics, dtype=str))
    with pytest.raises(ValueError, match="allow_pickle"):
        PrefilterModel.from_bytes(buffer.getvalue())
    assert _unpickled == []


# --- the cutoff's arithmetic ------------------------------------------------------------------------


def test_standardized_scores_do_not_depend_on_the_models_scale_or_offset():
    rng = np.random.default_rng(0)
    for _ in range(50):
        scores = rng.normal(size=int(rng.integers(5, 300))) * rng.uniform(0.1, 10)
        scale, shift = rng.uniform(0.01, 100), rng.uniform(-50, 50)
        np.testing.assert_allclose(prefilter.standardize(scale * scores + shift), prefilter.standardize(scores),
                                   atol=1e-9)


def test_the_cutoff_keeps_at_least_the_asked_recall():
    rng = np.random.default_rng(0)
    for _ in range(500):
        n = int(rng.integers(2, 400))
        labels = (rng.random(n) < rng.uniform(0.01, 0.5)).astype(int)
        labels[rng.integers(n)] = 1
        scores = rng.normal(size=n) + labels * rng.uniform(0, 3)
        if rng.random() < 0.5:
            scores = np.round(scores, 1)  # ties at the cutoff
        recall = float(rng.uniform(0.5, 1.0))
        cutoff = prefilter.cutoff_for(scores, labels, recall)
        kept = scores[labels == 1] >= cutoff
        assert kept.mean() >= recall - 1e-12
        assert prefilter.share_at_recall(scores, labels, recall) == pytest.approx(np.mean(scores >= cutoff))
        # The highest such score: one step up loses recall (unless every positive is kept even so).
        higher = scores[labels == 1][scores[labels == 1] > cutoff]
        if len(higher):
            assert (scores[labels == 1] >= higher.min()).mean() < recall or kept.all()


# --- the honest cutoff, the features ----------------------------------------------------------------


def test_the_conformal_cutoff_needs_enough_selections_and_its_bound_holds_on_new_ones():
    assert prefilter.needed_positives(0.95) == 19 and prefilter.needed_positives(0.9) == 9
    assert prefilter.conformal_cutoff(np.arange(18.0), 0.95) is None  # 18 cannot promise 95%
    cutoff, bound = prefilter.conformal_cutoff(np.arange(19.0), 0.95)
    assert cutoff == 0.0 and bound == pytest.approx(0.95)  # the lowest of 19
    cutoff, bound = prefilter.conformal_cutoff(np.arange(40.0), 0.95)
    assert cutoff == 1.0 and bound == pytest.approx(1 - 2 / 41)  # the second lowest of 40
    # Drawn again and again from one distribution, a new selection reaches the cutoff at least as often as promised.
    rng = np.random.default_rng(0)
    for n in (19, 25, 60):
        reached = []
        for _ in range(4000):
            cutoff, bound = prefilter.conformal_cutoff(rng.normal(size=n), 0.95)
            reached.append(rng.normal() >= cutoff)
        assert np.mean(reached) >= bound - 0.01


def test_a_sampled_selection_weighs_for_the_skipped_ones_it_stands_for():
    scores = np.arange(60.0)
    weights = np.ones(60)
    assert prefilter.conformal_cutoff(scores, 0.95, weights) == prefilter.conformal_cutoff(scores, 0.95)
    assert prefilter.conformal_cutoff(scores, 0.95)[0] == 2.0  # 61 × 5% = 3: two may lie below
    weights[1] = 20.0  # the second lowest was sampled below a cutoff: twenty like it were skipped
    cutoff, bound = prefilter.conformal_cutoff(scores, 0.95, weights)
    assert cutoff == 1.0 and bound >= 0.95  # rising above it would lose twenty selections
    # Weighted quartiles follow the papers a sample stands for, not only those judged.
    day = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    assert prefilter.standardize(day, np.array([1.0, 1, 1, 1, 1]))[2] == pytest.approx(0.0)
    assert prefilter.standardize(day, np.array([50.0, 1, 1, 1, 1]))[2] > 0.5  # the median moved down to 0


def test_categories_tell_a_paper_filed_in_a_field_from_one_cross_listed_to_it():
    assert prefilter.category_features(("cs.CL", "cs.LG")) == {
        "primary=cs.CL": prefilter.CATEGORY_WEIGHT, "listed=cs.CL": prefilter.CATEGORY_WEIGHT / 2,
        "listed=cs.LG": prefilter.CATEGORY_WEIGHT / 2,
    }
    assert prefilter.category_features(()) == {}
    rng = random.Random(4)
    # Same words for everyone; only the primary category says which papers were selected.
    examples = [
        Example(f"2503.{i:05d}", "A study", " ".join(rng.sample(_FILLER, 6)), label=int(i % 4 == 0),
                day=START + dt.timedelta(days=i % 5),
                categories=("cs.LG", "cs.AI") if i % 4 == 0 else ("cs.CV", "cs.LG"))
        for i in range(200)
    ]
    model = prefilter.train(examples, CRITERIA).model
    assert "primary=cs.LG" in model.categories and "listed=cs.AI" in model.categories
    docs = ["A study. We show results"] * 3
    scores = model.scores(docs, [("cs.LG", "cs.AI"), ("cs.CV", "cs.LG"), ()])
    assert scores[0] > scores[2] > scores[1]  # unknown categories: the words alone
    restored = PrefilterModel.from_bytes(model.to_bytes())
    np.testing.assert_array_equal(restored.scores(docs, [("cs.LG",), ("cs.CV",), ()]),
                                  model.scores(docs, [("cs.LG",), ("cs.CV",), ()]))


def test_a_model_stored_before_category_features_still_loads_and_scores():
    model = prefilter.train(_days(4, 40, 8), CRITERIA).model
    buffer = io.BytesIO()
    np.savez_compressed(buffer, vocabulary=np.array(model.vocabulary, dtype=str), idf=model.idf,
                        coef=model.coef[: len(model.vocabulary) + len(model.topics)],
                        intercept=np.array([model.intercept]), topics=np.array(model.topics, dtype=str))
    old = PrefilterModel.from_bytes(buffer.getvalue())
    assert old.categories == [] and len(old.scores(["mixture experts routing"], [("cs.LG",)])) == 1
    assert old.prior == 0.0  # stored before the criteria prior: its log-odds alone


# --- the criteria prior -----------------------------------------------------------------------------


def test_the_criteria_prior_is_the_closest_topic_less_a_share_of_the_closest_irrelevant_description():
    # Two topics, then one "irrelevant" description.
    similarity = np.array([[0.5, 0.1, 0.0], [0.2, 0.4, 0.5], [0.0, 0.0, 0.0]])
    expected = [0.5, 0.4 - prefilter.NEGATIVE_WEIGHT * 0.5, 0.0]
    np.testing.assert_allclose(prefilter.criteria_prior(similarity, negatives=1), expected)
    np.testing.assert_allclose(prefilter.criteria_prior(similarity, negatives=0), [0.5, 0.5, 0.0])
    assert len(prefilter.criteria_prior(None, 0)) == 0


def test_the_criteria_prior_weighs_a_fixed_share_of_the_log_odds_spread_whatever_their_scale():
    rng = np.random.default_rng(1)
    logits, prior = rng.normal(size=200), rng.uniform(size=200)
    small = prefilter.prior_coefficient(logits, prior, weight=0.25)
    assert small > 0
    assert prefilter.prior_coefficient(4 * logits, prior, weight=0.25) == pytest.approx(4 * small)
    assert prefilter.prior_coefficient(logits, prior / 2, weight=0.25) == pytest.approx(2 * small)
    assert prefilter.prior_coefficient(logits, prior, weight=0.0) == 0.0
    assert prefilter.prior_coefficient(logits, np.full(200, 0.3), weight=0.25) == 0.0  # no spread, no say


def test_a_model_adds_the_criteria_prior_to_what_its_words_say():
    criteria = "1. Model Compression\n   - Relevant: pruning quantization sparsity.\n   - Irrelevant: medical imaging."
    topics = prefilter.topic_texts(criteria)
    assert prefilter.negative_count(criteria) == 1 and topics[-1].strip() == "medical imaging."
    vocabulary = ["imaging", "medical", "pruning", "quantization", "sparsity", "study"]
    # Words that taught the model nothing (all weights zero): the prior alone orders the papers.
    blank = PrefilterModel(vocabulary=vocabulary, idf=np.ones(len(vocabulary)),
                           coef=np.zeros(len(vocabulary) + len(topics)), intercept=0.0, topics=topics,
                           negatives=1, prior=2.0)
    docs = ["pruning and quantization study", "a study", "medical imaging study"]
    scores = blank.scores(docs)
    assert scores[0] > scores[1] > scores[2]
    np.testing.assert_array_equal(PrefilterModel(**{**vars(blank), "prior": 0.0}).scores(docs), np.zeros(3))
