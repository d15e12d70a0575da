"""/arxiv follow, unfollow and following: who may change them, their wording, and suggestions from 👍."""

from __future__ import annotations

from bot.chat.commands import CommandCore
from bot.domain.models import Paper
from tests.support import make_paper
from tests.support.fakes import caller, say

ADMIN = caller("U9", admin=True)


def subscribed(core: CommandCore) -> CommandCore:
    say(core, "subscribe", caller("U1"))
    return core


def liked(core: CommandCore, *papers: tuple[str, list[str]]) -> None:
    core.store.save_papers(Paper.from_dict(make_paper(pid, authors=names)) for pid, names in papers)
    for pid, _ in papers:
        core.store.add_feedback("chat", "C1", "U2", pid, kind="positive", emoji="+1", source="reaction")


def test_an_admin_follows_an_author_and_everyone_reads_the_list(core):
    subscribed(core)
    reply = say(core, "follow Przemys{\\l}aw  Biecek", ADMIN)
    assert reply.public and reply.text == (
        "@U9 followed *Przemysław Biecek*: their papers are always in this channel's digest, listed first and "
        "marked “followed”, whatever their scores. `/arxiv unfollow Przemysław Biecek` stops it.")
    assert say(core, "follow przemyslaw biecek", ADMIN).text == (
        "This channel follows Przemysław Biecek already; `/arxiv following` lists all.")
    say(core, "follow Kaiming He", ADMIN)
    assert say(core, "following", caller("U2")).text == (
        "This channel follows 2 authors: Przemysław Biecek, Kaiming He. Their papers are always in the digest, "
        "listed first. `/arxiv unfollow <name>` stops one.")


def test_a_member_may_not_follow_or_unfollow(core):
    subscribed(core)
    for text in ("follow Kaiming He", "unfollow Kaiming He"):
        assert "Only workspace admins" in say(core, text, caller("U2")).text
    assert "follows no authors" in say(core, "following", caller("U2")).text


def test_unfollow_takes_any_spelling_of_a_followed_name(core):
    subscribed(core)
    say(core, "follow Przemysław Biecek", ADMIN)
    reply = say(core, "unfollow PRZEMYSLAW BIECEK", ADMIN)
    assert reply.public and reply.text == (
        "@U9 unfollowed *Przemysław Biecek*: their papers now make the digest only on their scores.")
    assert say(core, "unfollow K. He", ADMIN).text == (
        "This channel does not follow “K. He”; `/arxiv following` lists who it follows. Nothing was changed.")
    assert "Give the name to unfollow" in say(core, "unfollow", ADMIN).text


def test_an_ambiguous_short_form_is_refused_with_the_liked_authors_it_could_be(core):
    subscribed(core)
    liked(core, ("2503.00001", ["Kaiming He", "Kun He", "Ann Lee"]))
    reply = say(core, "follow K. He", ADMIN)
    assert reply.text == (
        "“K. He” is ambiguous: an initial matches many people (K. He is Kaiming He, Kun He, Kai He…). Give the given "
        "name in full as arXiv lists it, e.g. “Kaiming He”. Authors of papers this channel liked: Kaiming He, Kun He. "
        "Nothing was changed.")
    assert "alone would match every author" in say(core, "follow He", ADMIN).text
    assert "not “He, Kaiming”" in say(core, "follow He, Kaiming", ADMIN).text
    assert "follows no authors" in say(core, "following").text


def test_follow_alone_suggests_authors_of_two_or_more_liked_papers(core):
    subscribed(core)
    liked(core, ("2503.00001", ["Kaiming He", "Ann Lee", "K. Zed"]), ("2503.00002", ["Kaiming He", "Bo Li"]),
          ("2503.00003", ["Ann Lee", "K. Zed"]))
    say(core, "follow Ann Lee", ADMIN)
    assert say(core, "follow", caller("U2")).text == (
        "Authors of papers this channel liked: Kaiming He (2 liked papers).\n"
        "`/arxiv follow <name>` posts an author's papers every day they appear, listed first, e.g. "
        "`/arxiv follow Kaiming He`.")


def test_follow_alone_falls_back_to_the_most_frequent_and_says_when_there_is_nothing(core):
    subscribed(core)
    assert say(core, "follow").text.startswith("No suggestions yet: react with 👍 on papers you like")
    liked(core, ("2503.00001", ["Bo Li", "Ann Lee"]))
    assert say(core, "follow").text.startswith("Authors of papers this channel liked: Bo Li (1 liked paper), "
                                               "Ann Lee (1 liked paper).")
