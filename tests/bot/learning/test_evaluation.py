"""The replay behind ``arxiv-digest eval``: how labelled files become labels, and the command's output."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.entrypoints.cli import app
from bot.learning.evaluation import EvaluationError, LabelledRow, load_jsonl, replay, replay_days

runner = CliRunner()


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _paper(arxiv_id: str, date: str = "2025-03-25", **fields: Any) -> dict[str, Any]:
    return {"date": date, "arxiv_id": arxiv_id, "title": f"Paper {arxiv_id}", "abstract": "An abstract.",
            "authors": ["A. Author"], **fields}


def test_a_selected_flag_gives_the_label_and_selections_without_a_usable_score_are_dropped(tmp_path):
    flagged = _write(tmp_path / "flagged.jsonl", [
        _paper("1", selected_by_daizedong=True, relevance=9, novelty=8),
        _paper("2", selected_by_daizedong=False, relevance=None, novelty=None),
        _paper("3", selected_by_daizedong=True, relevance=None, novelty=None),  # an author match
        _paper("4", selected_by_daizedong=True, relevance=8, novelty=6),  # selected under lower thresholds
        _paper("5", selected=True),  # a team's own label, no scores at all
    ])
    rows = {r.arxiv_id: r for r in load_jsonl([flagged], 8, 7)}
    assert {i: r.label for i, r in rows.items()} == {"1": 1, "2": 0, "5": 1}
    assert all(r.complete for r in rows.values())  # the day holds unselected papers: fully judged
    assert rows["1"].date == dt.date(2025, 3, 25) and rows["1"].authors == ("A. Author",)


def test_without_a_flag_the_thresholds_decide_and_null_scores_are_dropped(tmp_path):
    graded = _write(tmp_path / "graded.jsonl", [
        _paper("1", relevance=8, novelty=7),
        _paper("2", relevance=8, novelty=6),
        _paper("3", relevance=None, novelty=None),
        {**_paper("4"), "date": None, "commit_date": "2025-03-26", "relevance": 9, "novelty": 9,
         "abstract": "arXiv:2503.00004v1 Announce Type: new  Abstract: The real abstract."},
    ])
    rows = {r.arxiv_id: r for r in load_jsonl([graded], 8, 7)}
    assert {i: r.label for i, r in rows.items()} == {"1": 1, "2": 0, "4": 1}
    assert rows["4"].abstract == "The real abstract." and rows["4"].date == dt.date(2025, 3, 26)
    assert rows["1"].complete and rows["2"].complete
    assert not rows["4"].complete  # its day holds only selections: says nothing of what a cutoff lets through
    assert [r.label for r in load_jsonl([graded], 5, 5) if r.arxiv_id == "2"] == [1]


def test_rows_are_merged_by_id_and_an_explicit_flag_wins(tmp_path):
    graded = _write(tmp_path / "graded.jsonl", [_paper("1", relevance=10, novelty=10), _paper("2", relevance=3)])
    flagged = _write(tmp_path / "flagged.jsonl", [_paper("1", selected=False), _paper("3", selected=True)])
    extra = _write(tmp_path / "digest.jsonl", [
        _paper("3", date="2025-03-20", relevance=9, novelty=9),  # already judged in a data file
        _paper("4", date="2025-03-20", relevance=9, novelty=9),
        _paper("5", date="2025-03-20", relevance=7, novelty=9),  # below the thresholds: not a selection here
    ])
    rows = load_jsonl([graded, flagged], 8, 7, extra=[extra])
    by_id = {r.arxiv_id: r for r in rows}
    assert len(rows) == len(by_id) == 4
    assert by_id["1"].label == 0  # the flag, not the graded score
    assert by_id["3"].date == dt.date(2025, 3, 25) and by_id["3"].complete
    assert by_id["4"].label == 1 and not by_id["4"].complete
    assert [r.date for r in rows] == sorted(r.date for r in rows)


def test_unreadable_files_are_clear_errors(tmp_path):
    with pytest.raises(EvaluationError, match="no such file"):
        load_jsonl([tmp_path / "missing.jsonl"], 8, 7)
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="holds no papers"):
        load_jsonl([tmp_path / "empty.jsonl"], 8, 7)
    (tmp_path / "bad.jsonl").write_text('{"arxiv_id": "1"\n', encoding="utf-8")
    with pytest.raises(EvaluationError, match="line 1: not JSON"):
        load_jsonl([tmp_path / "bad.jsonl"], 8, 7)
    _write(tmp_path / "partial.jsonl", [{"arxiv_id": "1", "date": "2025-03-25"}])
    with pytest.raises(EvaluationError, match="no title, abstract"):
        load_jsonl([tmp_path / "partial.jsonl"], 8, 7)


# --- the replay and the command -------------------------------------------------------------------

_ON = ["mixture", "experts", "sparse", "routing", "transformer", "pruning", "quantization", "representation"]
_OFF = ["crop", "yield", "farm", "clinical", "hospital", "traffic", "retail", "weather"]


def _days(count: int, per_day: int = 40, positives: int = 12) -> list[dict[str, Any]]:
    rng = random.Random(0)
    rows = []
    for d in range(count):
        date = dt.date(2025, 3, 3) + dt.timedelta(days=d)
        for i in range(per_day):
            selected = i < positives
            words = rng.sample(_ON if selected else _OFF, 5)
            rows.append({"date": date.isoformat(), "arxiv_id": f"2503.{d:02d}{i:03d}", "title": " ".join(words[:3]),
                         "abstract": " ".join(words), "selected": selected})
    return rows


def test_a_replay_trains_only_on_earlier_days_and_routes_like_production(tmp_path):
    rows = load_jsonl([_write(tmp_path / "days.jsonl", _days(6))], 8, 7)
    result = replay(rows, "Mixture of experts\nSparse transformers", min_labels=50)
    assert [d.day for d in result.days] == replay_days(rows) == [dt.date(2025, 3, d) for d in range(4, 9)]
    # Trained on what production would have: every paper of a day sent whole, then only the papers sent.
    assert [d.train_labels for d in result.days[:2]] == [40, 80]
    pairs = zip(result.days[1:], result.days[2:], strict=False)
    assert all(b.train_labels == a.train_labels + a.sent for a, b in pairs)
    # 40 labels are under min_labels; from the second test day on, two judged days hold 24 ≥ 19 selections.
    cold, active = result.days[:1], result.days[1:]
    assert all(d.cold and d.sent == d.papers for d in cold)
    assert all(not d.cold and d.sampled >= 2 and d.sent == d.above + d.sampled for d in active)
    assert result.auc == 1.0
    assert result.oracle_share(1.0) == pytest.approx(0.3)  # 60 selected of 200 papers, ranked first
    assert result.oracle_share(0.95) == pytest.approx(57 / 200)  # 3 of the 60 may be missed
    assert result.active.recall >= 0.9 and result.active.share < 0.5
    assert result.cost_relative == result.overall.share


def test_a_replay_from_an_empty_database_sends_the_first_day_whole_and_says_what_it_sent(tmp_path):
    rows = load_jsonl([_write(tmp_path / "days.jsonl", _days(6))], 8, 7)
    result = replay(rows, "Mixture of experts\nSparse transformers", min_labels=50, first=True)
    assert [d.day for d in result.days] == replay_days(rows, first=True) == [dt.date(2025, 3, d) for d in range(3, 9)]
    first = result.days[0]
    assert first.cold and first.train_labels == 0 and len(first.sent_ids) == first.papers == 40
    last = result.days[-1]
    assert not last.cold and len(last.sent_ids) == last.sent < last.papers


def test_a_replay_needs_two_days_holding_both_kinds_of_papers():
    one_day = [LabelledRow(dt.date(2025, 3, 3), str(i), "t", "a", label=i % 2, complete=True) for i in range(10)]
    with pytest.raises(EvaluationError, match="at least two days holding both selected and unselected papers"):
        replay(one_day, "criteria")


def test_eval_prints_auc_shares_and_cost_per_test_day(tmp_path):
    data = _write(tmp_path / "days.jsonl", _days(6))
    result = runner.invoke(app, ["eval", "--data", str(data), "--min-labels", "50"])
    assert result.exit_code == 0, result.output
    for text in ("AUC", "90% at", "95% at", "2025-03-08", "all days", "active (4)", "cold start on 1 day",
                 "no prefilter", "oracle, 95% recall", "automatic, active days", "gpt-4o-mini", "estimate"):
        assert text in result.output, text
    assert "1.000" in result.output and "30.0%" in result.output  # perfect ranking; 12 of 40 papers


def test_eval_says_clearly_what_is_wrong_with_its_input(tmp_path):
    missing = runner.invoke(app, ["eval", "--data", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "nope.jsonl: no such file" in missing.output

    one_day = _write(tmp_path / "one.jsonl", _days(1))
    result = runner.invoke(app, ["eval", "--data", str(one_day)])
    assert result.exit_code == 1
    assert "needs at least two days holding both selected and unselected papers" in result.output

    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    assert "holds no papers" in runner.invoke(app, ["eval", "--data", str(tmp_path / "empty.jsonl")]).output
    no_criteria = runner.invoke(app, ["eval", "--data", str(one_day), "--criteria", str(tmp_path / "c.txt")])
    assert no_criteria.exit_code == 1 and "no such criteria file" in no_criteria.output
