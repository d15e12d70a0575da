"""The real command core for the Slack and Discord round trips of questions about a paper: the digest through
the arXiv stand-in, the LLM and the papers' full texts through the in-memory fakes (FakeChat answers a question
from the passages it is sent, citing them; FakeFullText holds each paper's text)."""

from __future__ import annotations

from bot.bootstrap import arxiv_lookup, feed_fetcher
from bot.chat.commands import CommandCore
from bot.digest.service import DigestService
from bot.domain.fulltext import FullText, TextBlock
from bot.domain.platform import Caller, Markup, Reply
from bot.domain.settings import Settings
from bot.domain.statuses import TextSource
from storage.store import Store
from tests.conftest import sample_papers
from tests.support.chat import RecordingCore
from tests.support.fakes import FakeChat, FakeFullText

QUESTION = "which dataset do they use?"
DATASET_SENTENCE = "We train and evaluate on the ImageNet-1k dataset with 1.28 million images."


def paper_text(arxiv_id: str, title: str) -> FullText:
    """A paper's text in sections, one of which says which dataset it uses."""
    blocks = (
        TextBlock("Abstract", f"{title}. We study sparse experts for vision models."),
        TextBlock("1 Introduction", "Mixture of experts models route each token to a few experts."),
        TextBlock("3 Method", "Each expert is quantized to four bits after a short calibration."),
        TextBlock("4.2 Experiments", DATASET_SENTENCE),
        TextBlock("4.2 Experiments", "Top-1 accuracy per model size.", "Table 3"),
    )
    return FullText(arxiv_id, 1, TextSource.HTML, blocks, title=title)


def texts_of_sample_papers(count: int = 12) -> FakeFullText:
    texts = FakeFullText()
    for paper in sample_papers(count):
        texts.texts[paper["arxiv_id"]] = paper_text(paper["arxiv_id"], paper["title"])
    return texts


class AskingCore(RecordingCore):
    """The real core with the fakes, remembering every command and every question by mention it answered."""

    def __init__(self, service: DigestService, full_text: FakeFullText) -> None:
        CommandCore.__init__(self, service, full_text)
        self.answered = []
        self.mentions: list[tuple[Caller, str, str | None, str | None, Reply]] = []

    async def ask_mention(self, caller: Caller, text: str, *, thread: str | None, replied_to: str | None,
                          markup: Markup, event_id: str | None = None) -> Reply | None:
        reply = await super().ask_mention(caller, text, thread=thread, replied_to=replied_to, markup=markup,
                                          event_id=event_id)
        if reply is not None:
            self.mentions.append((caller, text, thread, replied_to, reply))
        return reply


def asking_core(settings: Settings, store: Store, llm: FakeChat, texts: FakeFullText) -> AskingCore:
    """Digests from the arXiv stand-in scored by ``llm``, questions answered by ``llm`` from ``texts``."""
    service = DigestService(settings, store, fetcher_for=feed_fetcher(settings), chat_factory=lambda: llm,
                            lookup=arxiv_lookup(settings))
    return AskingCore(service, texts)
