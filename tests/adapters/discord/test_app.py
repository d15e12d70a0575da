"""The Discord bot driven the way Discord drives it: real INTERACTION_CREATE and reaction payloads through
discord.py's own parsers and command tree, with every REST call answered by the Discord stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bibtexparser
import pytest

from adapters.discord.app import EDITOR_ID
from bot.domain.errors import PostError
from bot.domain.platform import Reply
from tests.adapters.discord.conftest import Scenario
from tests.adapters.discord.harness import ADMIN, MEMBER, ROLE_ID, DiscordHarness, guild_create, text_of
from tests.conftest import DAY
from tests.support.discord_api import (
    BOT_USER_ID,
    CHANNEL_ID,
    GUILD_ID,
    DiscordStandIn,
    gateway_dispatch,
    multipart_form,
)
from tests.support.http import Status

PAPER_BUTTONS = ["arxiv:abstract:{}", "arxiv:up:{}", "arxiv:down:{}"]


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


def arxiv_id(message: dict[str, Any]) -> str:
    return custom_ids(message)[0].rsplit(":", 1)[1]


async def posted_digest(h: DiscordHarness, **threshold: int) -> None:
    await h.command("subscribe")
    if threshold:
        await h.command("threshold", **threshold)
    answer = await h.command("run", user=MEMBER)
    assert "Posted the digest" in answer.text, answer.text


# --- commands ---------------------------------------------------------------------------------------------


def test_help_and_unknown_options_answer_only_the_caller_in_discord_spelling(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        answer = await h.command("help", user=MEMBER)
        assert answer.kind == 4 and answer.ephemeral
        assert "`/arxiv criteria edit`" in answer.text
        assert "`/arxiv threshold relevance:<relevance> novelty:<novelty>`" in answer.text
        assert "👍" in answer.text  # the reaction map

    scenario(test)


def test_subscribe_is_announced_and_unsubscribe_needs_the_subscriber_or_an_admin(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        subscribed = await h.command("subscribe", user=MEMBER)
        assert not subscribed.ephemeral and f"<@{MEMBER}> subscribed this channel" in subscribed.text
        sub = h.subscription()
        assert (sub.workspace, sub.created_by) == (str(GUILD_ID), str(MEMBER))
        refused = await h.command("unsubscribe", user=MEMBER + 5)
        assert refused.ephemeral and h.shows(refused) and h.last.caller.user == str(MEMBER + 5)
        assert "unsubscribed this channel" in (await h.command("unsubscribe", user=MEMBER)).text
        assert h.shows(await h.command("stats", user=MEMBER)) and h.last.invocation.name == "stats"

    scenario(test)


def test_settings_need_manage_server_the_admin_role_or_digest_admins(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe", user=MEMBER)
        refused = await h.command("threshold", user=MEMBER, relevance=9, novelty=9)
        assert refused.ephemeral
        assert "Only members with the Manage Server permission, members with the “Digest admins” role" in refused.text
        assert "relevance ≥ 7" in (await h.command("threshold", user=MEMBER)).text  # reading is for everyone
        assert "relevance ≥ 9" in (await h.command("threshold", relevance=9, novelty=9)).text  # Manage Server
        assert "relevance ≥ 8" in (await h.command("threshold", user=777, relevance=8, novelty=8)).text  # DIGEST_ADMINS
        # The role is known by name once the gateway's GUILD_CREATE has filled the cache.
        assert "Only members" in (await h.command("threshold", user=MEMBER, roles=(ROLE_ID,), relevance=6,
                                                  novelty=6)).text
        gateway_dispatch(h.bot, "GUILD_CREATE", guild_create({ROLE_ID: "digest ADMINS", ROLE_ID + 1: "other"}))
        allowed = await h.command("threshold", user=MEMBER, roles=(ROLE_ID,), relevance=6, novelty=6)
        assert not allowed.ephemeral and "relevance ≥ 6" in allowed.text
        other = await h.command("threshold", user=MEMBER, roles=(ROLE_ID + 1,), relevance=5, novelty=5)
        assert "Only members" in other.text

    scenario(test, admins="777", discord={"admin_role": "Digest admins"})


def test_threshold_categories_schedule_and_empty_days_change_the_channel(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        assert "relevance ≥ 8" in (await h.command("threshold", relevance=8, novelty=5)).text
        assert h.shows(await h.command("threshold", relevance=8)) and h.last.invocation.args == ("8",)
        assert h.shows(await h.command("categories", categories="cs.LG cs.XX"))
        assert h.last.invocation.args == ("cs.LG", "cs.XX")
        assert h.shows(await h.command("categories", categories="cs.CL, stat.ML"))
        assert "07:30 Asia/Tokyo" in (await h.command("schedule", time="07:30", timezone="Asia/Tokyo")).text
        assert "07:30 Asia/Tokyo" in (await h.command("schedule", user=MEMBER)).text
        assert "a short line is posted" in (await h.command("empty-days", state="on")).text
        assert "Empty days are on" in (await h.command("empty-days", user=MEMBER)).text
        sub = h.subscription()
        profile = h.core.store.profile_by_id(sub.profile_id)
        assert (profile.min_relevance, profile.min_novelty, profile.categories) == (8, 5, ("cs.CL", "stat.ML"))
        assert (sub.schedule_time, sub.timezone, sub.post_empty_days) == ("07:30", "Asia/Tokyo", True)

    scenario(test)


def test_weekly_takes_its_state_day_and_time_as_options(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        shown = await h.command("weekly", user=MEMBER)
        assert shown.ephemeral and "`/arxiv weekly state:on day:mon time:09:30`" in shown.text
        answer = await h.command("weekly", state="on", day="mon", time="09:30")
        assert not answer.ephemeral and h.last.invocation.args == ("on", "mon", "09:30")
        assert h.shows(await h.command("weekly", time="18:00")) and h.last.invocation.args == ("on", "18:00")
        assert h.shows(await h.command("weekly", state="off")) and h.subscription().weekly_day is None

    scenario(test)


def test_a_failing_command_is_answered_and_logged(scenario: Scenario, caplog: Any) -> None:
    reference = ""

    async def test(h: DiscordHarness) -> None:
        nonlocal reference

        async def broken(*args: Any) -> Reply:
            raise RuntimeError("database is locked")

        h.core.execute = broken  # type: ignore[method-assign]
        answer = await h.command("stats", user=MEMBER)
        assert answer.ephemeral and "Sorry, that failed on the bot's side (reference " in answer.text
        assert "database is locked" not in answer.text and "RuntimeError" not in answer.text
        reference = answer.text.split("(reference ", 1)[1][:8]

    scenario(test)
    [logged] = [r.getMessage() for r in caplog.records if "Discord command arxiv stats failed" in r.getMessage()]
    assert "database is locked" in logged and f"[ref {reference}]" in logged


def test_a_public_answer_to_a_deferred_command_is_posted_visibly(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        async def public(*args: Any) -> Reply:
            return Reply("Everyone should see this.", public=True)

        h.core.execute = public  # type: ignore[method-assign]
        answer = await h.command("run", user=MEMBER)  # slow: deferred privately first
        assert answer.kind == 5
        original, announcement = answer.messages
        assert original["flags"] & 64 and "answer is in the channel" in original["content"]
        assert not announcement["flags"] & 64 and "Everyone should see this." in text_of(announcement)

    scenario(test)


# --- criteria and the editor -----------------------------------------------------------------------------


def test_criteria_edit_opens_a_prefilled_modal_and_its_submission_is_announced(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        shown = await h.command("criteria show", user=MEMBER)
        assert shown.ephemeral and "Criteria v1" in shown.text and "```" in shown.text
        editor = await h.command("criteria edit")
        assert editor.kind == 9 and editor.data["custom_id"].startswith(EDITOR_ID)
        inputs = [row["components"][0] for row in editor.data["components"]]
        assert len(inputs) == 2  # 8,000 characters over boxes of 4,000
        assert all(i["style"] == 2 and i["max_length"] == 4000 for i in inputs)
        assert inputs[0]["value"] == h.core.store.profile_by_id(1).criteria and "value" not in inputs[1]
        values = {inputs[0]["custom_id"]: "Only papers on sparse attention kernels.", inputs[1]["custom_id"]: ""}
        waiting = await h.submit(editor.data["custom_id"], values)
        assert waiting.ephemeral and "waits for you" in waiting.text
        [row] = waiting.messages[-1]["components"]
        assert [(b["label"], b["custom_id"]) for b in row["components"]] == [
            ("Apply", "arxiv:do:criteria apply"), ("Discard", "arxiv:do:criteria discard")]  # no digest to preview
        message = h.api.original(waiting.token)
        assert message is not None
        refused = await h.press("arxiv:do:criteria apply", message, user=MEMBER)
        assert refused.ephemeral and "Only members with the Manage Server permission" in refused.text
        saved = await h.press("arxiv:do:criteria apply", message, user=ADMIN)
        assert h.last.invocation.name == "criteria apply" and h.last.caller.user == str(ADMIN)
        assert not saved.ephemeral and f"<@{ADMIN}> changed the criteria (v2" in saved.text
        assert "sparse attention kernels" in (await h.command("criteria show", user=MEMBER)).text
        assert "v2" in (await h.command("criteria history", user=MEMBER)).text
        assert "v1 is back in force" in (await h.command("criteria undo")).text

    scenario(test)


def test_the_preview_button_shows_the_latest_digest_under_the_change_with_apply_and_discard(
    scenario: Scenario,
) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        await h.command("run", user=MEMBER)
        posts = len(h.posted())
        editor = await h.command("criteria edit")
        box = editor.data["components"][0]["components"][0]["custom_id"]
        waiting = await h.submit(editor.data["custom_id"], {box: "Only papers on sparse attention kernels."})
        [row] = waiting.messages[-1]["components"]
        assert [b["label"] for b in row["components"]] == ["Preview", "Apply", "Discard"]
        message = h.api.original(waiting.token)
        assert message is not None
        shown = await h.press("arxiv:do:criteria preview", message, user=ADMIN)
        assert shown.kind == 5 and h.last.invocation.name == "criteria preview" and h.shows(shown)
        assert "under the new criteria" in shown.text
        [row] = shown.messages[-1]["components"]
        assert [b["custom_id"] for b in row["components"]] == ["arxiv:do:criteria apply", "arxiv:do:criteria discard"]
        after = h.api.original(shown.token)
        assert after is not None
        discarded = await h.press("arxiv:do:criteria discard", after, user=ADMIN)
        assert h.shows(discarded) and "Discarded the criteria change" in discarded.text
        assert len(h.posted()) == posts and "Criteria v1" in (await h.command("criteria show", user=MEMBER)).text

    scenario(test)


def test_invalid_criteria_are_answered_privately_with_the_reason_and_can_be_edited_again(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        editor = await h.command("criteria edit")
        first, second = (row["components"][0]["custom_id"] for row in editor.data["components"])
        empty = await h.submit(editor.data["custom_id"], {first: "   ", second: ""})
        assert empty.ephemeral and "empty" in empty.text and "Edit again" not in str(empty.data)
        draft = {first: "x" * 3000, second: "y" * 2500}
        too_long = await h.submit(editor.data["custom_id"], draft)
        assert too_long.ephemeral and "limit is 5000" in too_long.text and "Nothing was saved" in too_long.text
        [button] = too_long.data["components"][0]["components"]
        assert button["label"] == "Edit again"
        reopened = await h.press(button["custom_id"], h.api.original(too_long.token), user=ADMIN)
        assert reopened.kind == 9
        boxes = [row["components"][0].get("value") for row in reopened.data["components"]]
        assert boxes == ["x" * 3000, "y" * 2500]  # the draft as typed, not the saved criteria
        refused = await h.submit(editor.data["custom_id"], {first: "fine"}, user=MEMBER)
        assert "Only members with the Manage Server permission" in refused.text
        assert "components" not in refused.data  # no draft to keep for someone who may not save it
        assert "Criteria v1" in (await h.command("criteria show", user=MEMBER)).text

    scenario(test, max_criteria_chars=5000)


def test_a_non_admin_gets_no_editor(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        answer = await h.command("criteria edit", user=MEMBER)
        assert answer.kind == 4 and answer.ephemeral and "Only members with the Manage Server" in answer.text

    scenario(test)


def test_an_editor_opened_before_a_restart_still_saves(scenario: Scenario) -> None:
    opened: dict[str, Any] = {}

    async def before(h: DiscordHarness) -> None:
        await h.command("subscribe")
        opened.update((await h.command("criteria edit")).data)

    async def after(h: DiscordHarness) -> None:
        box = opened["components"][0]["components"][0]["custom_id"]
        saved = await h.submit(opened["custom_id"], {box: "Only robotics."})
        assert "waits for you" in saved.text

    scenario(before, after)


# --- the digest in the channel --------------------------------------------------------------------------


def test_run_defers_then_posts_a_summary_and_one_message_per_paper_with_buttons(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        answer = await h.command("run", user=MEMBER)
        assert answer.kind == 5 and answer.ephemeral and h.shows(answer) and h.last.invocation.name == "run"
        summary, *papers = h.posted()
        assert summary["components"] == [] and summary["embeds"][0]["title"] == "arXiv digest · Thu 2025-03-06"
        run = h.core.store.get_run(h.subscription().profile_id, DAY)
        assert len(papers) == run.relevant == 2
        for rank, paper in enumerate(papers, start=1):
            assert paper["embeds"][0]["title"].startswith(f"{rank}. ")
            assert custom_ids(paper) == [b.format(arxiv_id(paper)) for b in PAPER_BUTTONS]
        again = await h.command("run", user=MEMBER)
        assert h.shows(again) and len(h.posted()) == 1 + len(papers)

    scenario(test)


def test_a_60_paper_day_fits_discords_embed_limits_and_every_paper_is_posted(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await posted_digest(h, relevance=1, novelty=1)
        sends = [r for r in h.api.requests_to(f"/channels/{CHANNEL_ID}/messages") if r.method == "POST"]
        assert all(r.status == 200 for r in sends), [r.json for r in sends if r.status != 200][:1]
        assert len(h.papers()) == 60
        summaries = [m for m in h.posted() if not m["components"]]
        listed = "\n".join(e["description"] for m in summaries for e in m["embeds"])
        assert all(f"({m['embeds'][0]['url']})" in listed for m in h.papers())  # every paper linked once

    scenario(test, papers=60)


def test_a_rate_limited_post_is_retried_after_retry_after_and_nothing_is_lost_or_doubled(
    scenario: Scenario, discord_api: DiscordStandIn
) -> None:
    async def test(h: DiscordHarness) -> None:
        sub = await h.subscribe()
        discord_api.ratelimit_next(1, retry_after=0.05)  # the next request is the summary: nothing else runs
        delivery = await h.core.service.run_channel(sub)
        sends = [r for r in discord_api.requests_to(f"/channels/{CHANNEL_ID}/messages") if r.method == "POST"]
        assert [r.status for r in sends].count(429) == 1 and sends[0].status == 429
        assert sends[1].time - sends[0].time >= 0.05
        assert delivery.posted == len(h.posted()) == 1 + delivery.digest.relevant
        titles = [m["embeds"][0].get("title") for m in h.posted()]
        assert len(set(titles)) == len(titles)

    scenario(test)


def test_a_channel_the_bot_may_not_post_in_is_answered_with_what_to_fix(
    scenario: Scenario, discord_api: DiscordStandIn
) -> None:
    async def test(h: DiscordHarness) -> None:
        sub = await h.subscribe()
        discord_api.add_fault(Status(403))  # Missing Permissions, on the summary
        with pytest.raises(PostError, match="give the bot View Channel, Send Messages and Embed Links"):
            await h.core.service.run_channel(sub)  # (a command shows the same text as its reply)
        assert h.posted() == []
        answer = await h.command("run", user=MEMBER)  # the channel works again: all of it is posted
        assert "Posted the digest" in answer.text

    scenario(test)


def test_stats_reports_posts_spend_and_reactions(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await posted_digest(h)
        text = (await h.command("stats", user=MEMBER)).text
        assert "Digests posted" in text and "LLM use" in text and "Reactions: none yet" in text

    scenario(test)


# --- abstracts, buttons and reactions --------------------------------------------------------------------


def test_abstract_by_rank_and_id_is_private_and_complete(scenario: Scenario, arxiv: Any) -> None:
    async def test(h: DiscordHarness) -> None:
        await posted_digest(h)
        by_rank = await h.command("abstract", user=MEMBER, id_or_rank="1")
        assert by_rank.kind == 5 and by_rank.ephemeral and "mixture of experts" in by_rank.text
        assert by_rank.messages[0]["embeds"][0]["url"] == h.papers()[0]["embeds"][0]["url"]
        assert h.shows(await h.command("abstract", user=MEMBER, id_or_rank="9")) and h.last.invocation.args == ("9",)
        assert h.shows(await h.command("abstract", user=MEMBER, id_or_rank="2401.99999"))

    scenario(test)


def test_bibtex_by_rank_is_a_private_code_block(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await posted_digest(h)
        by_rank = await h.command("bibtex", user=MEMBER, id_or_rank="1")
        assert h.shows(by_rank) and h.last.invocation.args == ("1",) and by_rank.ephemeral
        assert "```\n@misc{" in by_rank.text and "archivePrefix = {arXiv}" in by_rank.text

    scenario(test)


def test_the_stand_in_reads_discords_documented_multipart_body() -> None:
    recorded = (Path(__file__).resolve().parents[2] / "fixtures" / "discord" / "multipart_payload_json_files.txt")
    body = recorded.read_bytes().replace(b"\n", b"\r\n")
    form = multipart_form("multipart/form-data; boundary=boundary", body)
    assert form is not None
    payload, files = form
    assert payload["content"] == "Hello, World!" and [a["id"] for a in payload["attachments"]] == [0, 1]
    assert files == {"files[0]": ("myfilename.png", "image/png", b"[image bytes]"),
                     "files[1]": ("mygif.gif", "image/gif", b"[image bytes]")}


def test_export_liked_posts_the_bib_file_as_an_attachment_in_the_channel(scenario: Scenario, discord_api) -> None:
    async def test(h: DiscordHarness) -> None:
        await posted_digest(h)
        await h.react(h.papers()[0]["id"], "👍")
        answer = await h.command("export-liked", user=MEMBER, days=7)
        assert h.shows(answer) and h.last.invocation.args == ("7",) and not answer.ephemeral
        [attachment] = answer.messages[-1]["attachments"]  # files[0], named in the payload as Discord documents
        assert attachment["id"] == 0 and attachment["filename"].endswith("-7d.bib")
        [upload] = h.api.uploads
        assert upload["filename"] == attachment["filename"]
        library = bibtexparser.parse_string(upload["content"].decode("utf-8"))
        assert library.failed_blocks == [] and len(library.entries) == 1
        await h.react(h.papers()[0]["id"], "👍", add=False)
        nothing = await h.command("export-liked", user=MEMBER)
        assert h.shows(nothing) and "nothing to export" in nothing.text and len(h.api.uploads) == 1

    scenario(test)


def test_paper_buttons_work_privately_and_keep_working_after_a_restart(scenario: Scenario) -> None:
    async def before(h: DiscordHarness) -> None:
        await posted_digest(h)
        paper = h.papers()[0]
        abstract = await h.press(f"arxiv:abstract:{arxiv_id(paper)}", paper)
        assert abstract.kind == 5 and abstract.ephemeral and "We propose a novel mixture" in abstract.text
        assert "Noted: 👍" in (await h.press(f"arxiv:up:{arxiv_id(paper)}", paper)).text

    async def after(h: DiscordHarness) -> None:  # a new process: nothing in memory but the dynamic item classes
        paper = h.papers()[0]
        abstract = await h.press(f"arxiv:abstract:{arxiv_id(paper)}", paper)
        assert "We propose a novel mixture" in abstract.text
        took_back = await h.press(f"arxiv:up:{arxiv_id(paper)}", paper)
        assert took_back.ephemeral and "Took back your 👍" in took_back.text
        down = await h.press(f"arxiv:down:{arxiv_id(paper)}", paper)
        assert "Noted: 👎" in down.text
        [feedback] = h.core.store.feedback_for("discord", str(CHANNEL_ID))
        assert (feedback.kind, feedback.arxiv_id, feedback.user) == ("negative", arxiv_id(paper), str(MEMBER))

    scenario(before, after)


def test_reactions_on_paper_messages_are_feedback_and_removing_takes_it_back(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await posted_digest(h)
        store = h.core.store
        summary, paper = h.posted()[0]["id"], h.papers()[0]["id"]
        await h.react(paper, "👍🏽")  # a skin tone: still 👍
        await h.react(paper, "👀")
        await h.react(summary, "🔥")  # not a paper
        await h.react(paper, "🍕")  # not in the map
        await h.react(paper, "👎", user=BOT_USER_ID)  # the bot's own
        assert sorted((f.kind, f.emoji, f.user) for f in store.feedback_for("discord", str(CHANNEL_ID))) == [
            ("later", "👀", str(MEMBER)), ("positive", "👍", str(MEMBER))
        ]
        await h.react(paper, "👍🏽", add=False)
        assert [f.emoji for f in store.feedback_for("discord", str(CHANNEL_ID))] == ["👀"]

    scenario(test)


def test_language_takes_its_code_as_an_option_and_changes_the_channels_tldrs(scenario: Scenario) -> None:
    async def test(h: DiscordHarness) -> None:
        await h.command("subscribe")
        assert "set the language to Japanese" in (await h.command("language", code="ja")).text
        assert h.last.invocation.args == ("ja",)
        assert h.shows(await h.command("language", code="klingonese"))
        assert "Japanese (日本語)" in (await h.command("language", user=MEMBER)).text
        assert h.core.store.profile_by_id(h.subscription().profile_id).language == "ja"

    scenario(test)
