"""``arxiv-digest eval``: how much the prefilter would save on labelled days, and what recall it keeps.

Replays the days of one or more JSONL files in date order (``bot.learning.evaluation``): the prefilter is trained
on the days before each test day and routes that day as production would. bot.entrypoints.cli registers ``eval``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.entrypoints.console import fail, load_settings, out

COMPLETION_TOKENS_PER_PAPER = 60  # a reply line per paper: ID, two scores and a one-sentence comment
CHARS_PER_TOKEN = 4


def _percent(value: float | None) -> str:
    if value is None:
        return "–"
    return "100%" if value >= 1 else f"{100 * value:.1f}%"  # narrow enough for an 80-column terminal


def _auc(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def evaluate(
    data: Annotated[
        list[Path],
        typer.Option("--data", metavar="FILE", help="JSONL file of judged papers (repeatable): date, arxiv_id, "
                     "title, abstract and a selected flag or relevance/novelty scores."),
    ],
    extra: Annotated[
        list[Path] | None,
        typer.Option("--extra", metavar="FILE", help="JSONL file of a digest's selections only (repeatable): its "
                     "papers that reach the thresholds are extra positives for training, never test papers."),
    ] = None,
    criteria: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Criteria text file; default: the bundled default criteria.")
    ] = None,
    min_relevance: Annotated[
        int, typer.Option(metavar="N", help="Relevance a row's scores need to count as selected (8 and 7: the "
                          "thresholds the seed's labelled days were selected at; the bot's own are 7 and 6).")
    ] = 8,
    min_novelty: Annotated[
        int, typer.Option(metavar="N", help="Novelty a row's scores need to count as selected.")
    ] = 7,
    recall: Annotated[
        float,
        typer.Option(min=0.5, max=1.0, metavar="SHARE", help="Share of the selections the automatic cutoff keeps."),
    ] = 0.95,
    min_labels: Annotated[
        int, typer.Option(min=1, metavar="N", help="Labelled papers before the prefilter starts.")
    ] = 100,
    sample: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, metavar="SHARE", help="Share of the papers below the cutoff still sent."),
    ] = 0.05,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the random sample below the cutoff.")] = 0,
) -> None:
    """Replay labelled days through the prefilter: ranking quality (AUC), the share of papers it must send
    for 90% and 95% recall, what its automatic cutoff sends and recalls, and the LLM cost that saves.

    Each test day's model is trained on the days before it only. Rows are labelled by their "selected"
    flag, else by the thresholds; a day counts as judged when its file holds unselected papers on it.
    """
    from rich import box
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    import prompts
    from bot.domain.errors import DigestError
    from bot.domain.models import Paper
    from bot.domain.pricing import format_cost, price_for
    from bot.learning import evaluation
    from bot.scoring import prompt

    console = out()

    if criteria is not None and not criteria.is_file():
        fail(f"{criteria}: no such criteria file.")
    criteria_text = criteria.read_text(encoding="utf-8") if criteria is not None else prompts.default_criteria()
    if not criteria_text.strip():
        fail(f"{criteria}: the criteria file is empty.")
    try:
        rows = evaluation.load_jsonl(data, min_relevance, min_novelty, extra=extra or ())
        days = evaluation.replay_days(rows)
    except DigestError as exc:
        fail(str(exc))
    settings = load_settings()

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("replaying test days", total=len(days))
        result = evaluation.replay(
            rows, criteria_text, recall=recall, sample=sample, min_labels=min_labels, seed=seed,
            progress=lambda day: bar.update(task, advance=1, description=f"replayed {day.day}"),
        )

    table = Table(
        title=f"Prefilter replay: {len(rows):,} papers, {len(result.days)} test days, each trained on the days "
        f"before it; selected = R ≥ {min_relevance} and N ≥ {min_novelty}",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
    )
    for column in ("day", "papers", "sel.", "AUC", "90% at", "95% at", "model", "sent", "recall"):
        table.add_column(column, justify="left" if column in {"day", "model"} else "right", no_wrap=True)
    for day in result.days:
        table.add_row(
            str(day.day), str(day.papers), str(day.positives), _auc(day.auc), _percent(day.oracle_share(0.90)),
            _percent(day.oracle_share(0.95)), "cold" if day.cold else "active",
            _percent(day.share), _percent(day.recall),
        )
    table.add_section()
    pooled = result.overall
    table.add_row(
        "all days", str(pooled.papers), str(pooled.positives), _auc(result.auc),
        _percent(result.oracle_share(0.90)), _percent(result.oracle_share(0.95)), "", _percent(pooled.share),
        _percent(pooled.recall),
    )
    active = result.active
    table.add_row(
        f"active ({active.days})", str(active.papers), str(active.positives), "", "", "",
        "", _percent(active.share), _percent(active.recall),
    )
    console.print(table)
    console.print(
        "90%/95% at: the share of papers a cutoff must send to keep that recall, chosen knowing the labels "
        "(pooled: one cutoff on the standardized scores of all days). sent, recall: the automatic cutoff's, "
        f"with a {sample:.0%} sample of the papers below it (at least 2); a cold day sends everything."
    )
    for reason in dict.fromkeys(d.reason for d in result.days if d.cold):
        cold = sum(1 for d in result.days if d.reason == reason)
        console.print(f"cold start on {cold} day{'s' if cold != 1 else ''}: {escape(reason)}", highlight=False)

    tested = set(days)
    test_papers = [Paper(r.arxiv_id, r.title, r.authors, r.abstract) for r in rows if r.complete and r.date in tested]
    prompt_tokens = sum(len(prompt.paper_block(p)) for p in test_papers) / CHARS_PER_TOKEN / len(test_papers)
    price = price_for(settings.model, settings.prices)
    per_paper = (
        None if price is None
        else (prompt_tokens * price[0] + COMPLETION_TOKENS_PER_PAPER * price[2]) / 1_000_000
    )
    costs = Table(
        title=f"LLM cost with {settings.model} (estimate: {prompt_tokens:,.0f} prompt tokens per paper = "
        f"characters/{CHARS_PER_TOKEN}, plus ~{COMPLETION_TOKENS_PER_PAPER} completion tokens; the cached prompt "
        "prefix is left out)",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
    )
    for column in ("routing", "sent", "recall", "saved", "$ per 1,000 papers", "$ saved per 1,000"):
        costs.add_column(column, justify="left" if column == "routing" else "right", no_wrap=column == "routing")
    def dollars(fraction: float | None) -> str:
        return "–" if fraction is None else format_cost(None if per_paper is None else 1000 * per_paper * fraction)

    for name, share, kept in (
        ("no prefilter", 1.0, 1.0),
        ("oracle, 95% recall", result.oracle_share(0.95), 0.95),
        ("automatic, all days", pooled.share, pooled.recall),
        ("automatic, active days", active.share, active.recall),
    ):
        costs.add_row(
            name, _percent(share), _percent(kept), _percent(None if share is None else 1 - share),
            dollars(share), dollars(None if share is None else 1 - share),
        )
    console.print(costs)
