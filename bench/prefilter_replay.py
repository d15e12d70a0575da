"""Benchmark: the learned prefilter replayed over 12 real arXiv days, against sending everything to the LLM.

What it measures. The 12 days of ``dw_crosslisted_lg_ai_joined_12days_2025.jsonl`` (papers cross-listed to
cs.LG/cs.AI, labelled by whether the seed's gpt-4o selected them) are replayed in date order through
``bot.learning.evaluation.replay``: for each day after the first, the prefilter is trained on the days before it
(plus the seed's published selections dated before it, from ``daizedong_selected_…jsonl``, as extra
positives), then routes the day as production does: papers at or above the automatic cutoff, plus a 5%
random sample (at least 2) of the rest, go to the LLM; a day without a cutoff yet (cold start) sends all.

Labels follow the thresholds the test days used (relevance ≥ 8 and novelty ≥ 7, in force from
2025-03-25): the seed's selections below them and its author matches (no score) are dropped. The
criteria are the seed's ``paper_topics.txt``.

It prints per test day and pooled: AUC, the share of papers a cutoff must send for 90% and 95% recall
when chosen knowing the labels (the oracle, one cutoff on standardized scores for all days), the
automatic cutoff's share sent and recall (all test days; days it was active), training time per day
(max, median) and peak memory (tracemalloc over a second, traced run; ru_maxrss). In the same run it
compares with the seed's way (every paper to the LLM: 100% sent, 100% recall) and with zero-shot TF-IDF
similarity to the criteria (``bot.scoring.local_scorer.score_locally``'s relevance, novelty breaking ties).

Targets: at most 30% of papers sent for 95% recall (oracle), and an LLM cost per paper at most 50% of
no prefilter on the days the prefilter was active (the cost is proportional to papers sent: the prompt
prefix is cached and every paper costs about the same tokens). Each prints OK or MISS; the exit status
is non-zero only when the data cannot be read.

Then it prices every request each day sends (``bench/replay_cost.py``: gpt-4o's tokenizer and prices, the
provider's cache rules) and prints per day the papers, papers sent, tokens per paper sent, cost and
recall for the seed's own recorded runs, for everything to the LLM and for the bot, from an empty
database (``--seed-history`` also trains on the seed's published selections before each day). Targets:
recall ≥ 95%, at most $0.45 per 1,000 papers over all days and $0.25 over the last six.

Run from the repository root (15–25 seconds, half of it the traced run; needs ``../shared/data`` or
DIGEST_SHARED_DATA):

    .venv/bin/python -m bench.prefilter_replay
    .venv/bin/python -m bench.prefilter_replay --recall 0.9 --sample 0.1 --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence

import numpy as np

# Imported up front (bot.learning.prefilter imports them lazily): the first day's training time must not include them.
import sklearn.feature_extraction.text
import sklearn.linear_model  # noqa: F401

from bench import replay_cost
from bench.shared_data import DAIZEDONG, DATA, DW
from bot.domain.errors import DigestError
from bot.domain.models import Paper
from bot.domain.settings import Settings
from bot.learning import evaluation, prefilter
from bot.scoring import prompt
from bot.scoring.local_scorer import score_locally

CRITERIA = "daizedong_prompt_3924e50/paper_topics.txt"
MIN_RELEVANCE, MIN_NOVELTY = 8, 7  # the seed's thresholds from 2025-03-25, the first test day
TARGET_ORACLE_SHARE = 0.30  # at 95% recall
TARGET_ACTIVE_COST = 0.50  # relative to sending every paper
TARGET_RECALL = 0.95  # of the selections a full-abstract judgment makes, in the digests
TARGET_COST_ALL = 0.45  # USD per 1,000 papers over every replayed day: the seed's median
TARGET_COST_LAST = 0.25  # USD per 1,000 papers over the last six days
_DEFAULTS = Settings.model_fields


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISS"


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def local_scores(
    rows: Sequence[evaluation.LabelledRow], days: Sequence[dt.date], criteria: str
) -> tuple[np.ndarray, np.ndarray]:
    """The zero-shot local scorer on each test day, standardized per day like the prefilter's scores."""
    scores, labels = [], []
    for day in days:
        judged = [r for r in rows if r.date == day and r.complete]
        judged_papers = [Paper(r.arxiv_id, r.title, r.authors, r.abstract) for r in judged]
        found = score_locally(judged_papers, criteria)
        raw = np.array([found[r.arxiv_id].relevance + found[r.arxiv_id].novelty / 10 for r in judged])
        scores.append(prefilter.standardize(raw))
        labels.append(np.array([r.label for r in judged]))
    return np.concatenate(scores), np.concatenate(labels)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.prefilter_replay", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--recall", type=float, default=0.95, help="recall the automatic cutoff aims at (0.95)")
    parser.add_argument("--sample", type=float, default=0.05, help="share sampled below the cutoff (0.05)")
    parser.add_argument("--min-labels", type=int, default=prefilter.MIN_LABELS, help="cold start below (300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample below the cutoff (0)")
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS["batch_size"].default,
                        help="papers per LLM request, as DIGEST_BATCH_SIZE")
    parser.add_argument("--concurrency", type=int, default=_DEFAULTS["concurrency"].default,
                        help="requests in flight (the first wave misses the prompt cache), as DIGEST_CONCURRENCY")
    parser.add_argument("--seed-history", action="store_true",
                        help="also train on the seed's published selections dated before each day (default: "
                             "start from an empty database)")
    args = parser.parse_args(argv)
    if not 0.5 < args.recall <= 1 or not 0 <= args.sample <= 1 or args.min_labels < 1:
        parser.error("--recall must be in (0.5, 1], --sample in [0, 1], --min-labels >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        criteria = (DATA / CRITERIA).read_text(encoding="utf-8")
        extra = [DATA / DAIZEDONG] if args.seed_history else []
        rows = evaluation.load_jsonl([DATA / DW], MIN_RELEVANCE, MIN_NOVELTY, extra=extra)
        known = replay_cost.load_judged(DATA / DW)
    except (OSError, DigestError) as exc:
        print(f"cannot read the shared data: {exc} (set DIGEST_SHARED_DATA to its folder)", file=sys.stderr)
        return 1
    complete = [r for r in rows if r.complete]
    print(
        f"{len(rows):,} labelled papers: {len(complete):,} on {len({r.date for r in complete})} judged days "
        f"({sum(r.label for r in complete)} selected), {len(rows) - len(complete):,} extra selections; "
        f"selected = R ≥ {MIN_RELEVANCE} and N ≥ {MIN_NOVELTY}."
    )
    options = {"recall": args.recall, "sample": args.sample, "min_labels": args.min_labels, "seed": args.seed,
               "first": True}
    started = time.perf_counter()
    result = evaluation.replay(rows, criteria, **options)
    wall = time.perf_counter() - started
    # Memory in a second run: tracemalloc slows Python down, and the training times above must not show it.
    tracemalloc.start()
    evaluation.replay(rows, criteria, **options)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    header = ("day", "papers", "selected", "AUC", "90% at", "95% at", "prefilter", "sent", "recall", "train s")
    table = [header]
    for d in result.days:
        table.append((
            str(d.day), str(d.papers), str(d.positives), f"{d.auc:.3f}" if d.auc is not None else "–",
            _pct(d.oracle_share(0.90)), _pct(d.oracle_share(0.95)), "cold" if d.cold else "active",
            _pct(d.share), _pct(d.recall), f"{d.train_seconds:.2f}",
        ))
    o, a = result.overall, result.active
    table.append((
        "all test days", str(o.papers), str(o.positives), f"{result.auc:.3f}" if result.auc is not None else "–",
        _pct(result.oracle_share(0.90)), _pct(result.oracle_share(0.95)), "", _pct(o.share), _pct(o.recall), "",
    ))
    table.append((f"active days ({a.days})", str(a.papers), str(a.positives), "", "", "", "", _pct(a.share),
                  _pct(a.recall), ""))
    print()
    print(_table(table))
    print("90%/95% at: share a cutoff must send for that recall, chosen knowing the labels (pooled: one cutoff on")
    print(f"standardized scores). sent: above the automatic cutoff plus a {args.sample:.0%} sample below it.")
    for reason in dict.fromkeys(d.reason for d in result.days if d.cold):
        print(f"cold start on {sum(d.reason == reason for d in result.days)} days: {reason}")

    local, labels = local_scores(rows, [d.day for d in result.days], criteria)
    local_auc = evaluation.roc_auc(local, labels)
    oracle_95 = result.oracle_share(0.95)
    print()
    print("comparison over the same test days (cost per paper relative to sending everything = share sent):")
    print(_table([
        ("routing", "AUC", "sent for 95% (oracle)", "sent", "recall", "cost per paper"),
        ("seed's way: every paper to the LLM", "–", "100.0%", "100.0%", "100.0%", "1.00"),
        ("zero-shot TF-IDF (local scorer)", f"{local_auc:.3f}" if local_auc is not None else "–",
         _pct(prefilter.share_at_recall(local, labels, 0.95)), "–", "–", "–"),
        ("prefilter, all test days", f"{result.auc:.3f}" if result.auc is not None else "–", _pct(oracle_95),
         _pct(o.share), _pct(o.recall), f"{o.share:.2f}" if o.share is not None else "–"),
        ("prefilter, active days", "", "", _pct(a.share), _pct(a.recall),
         f"{a.share:.2f}" if a.share is not None else "–"),
    ]))

    seconds = [d.train_seconds for d in result.days]
    print()
    print(f"training per day: max {max(seconds):.2f} s, median {statistics.median(seconds):.2f} s "
          f"({min(d.train_labels for d in result.days):,}–{max(d.train_labels for d in result.days):,} labels); "
          f"whole replay {wall:.1f} s")
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak memory: tracemalloc {traced_peak / 2**20:,.1f} MiB during a replay; "
          f"process ru_maxrss {rss_mib:,.1f} MiB")
    print()
    print("targets:")
    print(f"  sent for 95% recall (oracle) ≤ {TARGET_ORACLE_SHARE:.0%}: {_pct(oracle_95)}  "
          f"{_verdict(oracle_95 is not None and oracle_95 <= TARGET_ORACLE_SHARE)}")
    print(f"  cost per paper on active days ≤ {TARGET_ACTIVE_COST:.0%} of no prefilter: {_pct(a.share)} "
          f"(recall {_pct(a.recall)})  {_verdict(a.share is not None and a.share <= TARGET_ACTIVE_COST)}")
    print_costs(args, rows, known, result, criteria)
    return 0


def _reply(judged: replay_cost.Judged) -> str:
    if judged.label and judged.relevance is not None and judged.novelty is not None:
        return prompt.reply_line(judged.paper.arxiv_id, judged.relevance, judged.novelty, judged.comment)
    return prompt.reply_line(judged.paper.arxiv_id, 3, 4, "")  # scores unknown: two digits, no comment


def print_costs(
    args: argparse.Namespace, rows: Sequence[evaluation.LabelledRow], known: dict[str, replay_cost.Judged],
    result: evaluation.ReplayResult, criteria: str,
) -> None:
    """Every request priced at gpt-4o's prices, per day, for the seed's runs, everything to the LLM and the bot."""
    days = [d.day for d in result.days]
    judged = {day: replay_cost.day_judged(rows, day, known) for day in days}
    comments = sorted(replay_cost.count_tokens(" " + j.comment) for j in known.values() if j.comment)
    extra = replay_cost.below_threshold_comments(DATA / DAIZEDONG, days[0], prompt.COMMENT_FROM,
                                                 (MIN_RELEVANCE, MIN_NOVELTY))
    common = {"batch_size": args.batch_size, "first_wave": args.concurrency, "reply": _reply,
              "extra_comments": extra, "comment_tokens": comments[len(comments) // 2] if comments else 0}
    seed = replay_cost.seed_days(DATA / replay_cost.STATS, days)
    everything = [replay_cost.price_day(day, judged[day], [j.paper.arxiv_id for j in judged[day]], criteria, **common)
                  for day in days]
    bot = [replay_cost.price_day(d.day, judged[d.day], d.sent_ids, criteria, **common) for d in result.days]
    print()
    print(f"LLM cost at {replay_cost.MODEL} prices (input ${replay_cost.PRICE[0]}, cached ${replay_cost.PRICE[1]}, "
          f"output ${replay_cost.PRICE[2]} per 1M tokens); {args.batch_size} papers a request, "
          f"{args.concurrency} in flight; tokens counted with o200k_base; comments below the thresholds "
          f"estimated at {extra:.0%} of the selections sent.")
    for title, priced in (
        ("the seed's own runs (recorded; papers = those it scanned, every cs.LG/cs.AI paper of the day)", seed),
        ("everything to the LLM (the bot's prompt, no prefilter)", everything),
        ("the bot (prefilter as replayed above, the bot's prompt)", bot),
    ):
        print()
        print(title)
        print(_table(replay_cost.cost_rows(priced)))
    batch = [replay_cost.batch_priced(d) for d in bot]
    print()
    print("the bot through the Batch API (DIGEST_USE_BATCH_API: half price, results within 24 hours; no cache "
          "counted): "
          f"${replay_cost.per_thousand(batch):.3f} per 1,000 papers over all days, "
          f"${replay_cost.per_thousand(batch[-replay_cost.LAST_DAYS:]):.3f} over the last {replay_cost.LAST_DAYS}")
    last = [d for d in result.days[-replay_cost.LAST_DAYS:] if d.scores is not None]
    if last:
        scores = np.concatenate([d.scores for d in last if d.scores is not None])
        oracle = prefilter.share_at_recall(scores, np.concatenate([d.labels for d in last]), TARGET_RECALL)
        tail = bot[-replay_cost.LAST_DAYS:]
        per_sent = sum(d.cost for d in tail) / max(sum(d.sent or 0 for d in tail), 1)
        print(f"a cutoff chosen knowing the labels ({TARGET_RECALL:.0%} recall over the last {replay_cost.LAST_DAYS} "
              f"days, one cutoff) would send {oracle:.1%} of their papers: about ${1000 * oracle * per_sent:.3f} per "
              f"1,000 papers at the bot's ${1000 * per_sent:.3f} per 1,000 papers sent")
    recall = replay_cost.recall_of(bot)
    all_cost, last_cost = replay_cost.per_thousand(bot), replay_cost.per_thousand(bot[-replay_cost.LAST_DAYS:])
    print()
    print("cost targets (the bot):")
    print(f"  recall ≥ {TARGET_RECALL:.0%}: {_pct(recall)}  {_verdict(recall is not None and recall >= TARGET_RECALL)}")
    print(f"  $/1000 papers over all days ≤ ${TARGET_COST_ALL:.2f}: ${all_cost:.3f}  "
          f"{_verdict(all_cost <= TARGET_COST_ALL)}")
    print(f"  $/1000 papers over the last {replay_cost.LAST_DAYS} days ≤ ${TARGET_COST_LAST:.2f}: ${last_cost:.3f}  "
          f"{_verdict(last_cost <= TARGET_COST_LAST)}")


if __name__ == "__main__":
    sys.exit(main())
