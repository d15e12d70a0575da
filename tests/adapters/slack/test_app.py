"""The Slack app driven the way Slack drives it: signed HTTP requests into the running app (HTTP mode),
envelopes over a websocket (Socket Mode), and every Web API call answered by the Slack stand-in."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import bibtexparser
import pytest

from adapters.slack.app import ADMIN_RULE
from adapters.slack.blocks import ABSTRACT_ACTION, CRITERIA_CALLBACK, VOTE_UP_ACTION
from adapters.slack.config import SlackSettings
from adapters.slack.runner import SlackRunner
from bot.bootstrap import build_core
from bot.chat.lookups import PER_PERSON
from storage.store import Store
from tests.adapters.slack.harness import (
    ADMIN,
    CHANNEL,
    CREATOR,
    MEMBER,
    SlackHarness,
    serve_http,
    text_of,
    until,
)
from tests.conftest import DAY, sample_papers
from tests.support.slack_api import SocketModeStandIn

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"


@pytest.fixture
def scenario(make_settings, arxiv, slack) -> Callable[..., Any]:
    """Run ``test(harness)`` against a started Slack app in HTTP mode, then stop it."""

    def run(test: Callable[[SlackHarness], Awaitable[None]], *, papers: int = 12, **overrides: Any) -> None:
        arxiv.set_day(DAY, sample_papers(papers))
        serve_http(make_settings(**overrides), slack, test)
        assert not slack.errors, slack.errors

    return run


# --- requests and signatures ------------------------------------------------------------------------


def test_a_forged_or_stale_signature_is_refused_with_401_and_does_nothing(scenario, slack):
    async def test(h: SlackHarness) -> None:
        assert (await h.command("subscribe", secret="not-the-secret")).status_code == 401
        assert (await h.command("subscribe", timestamp=int(time.time()) - 3600)).status_code == 401
        await asyncio.sleep(0.2)
        assert slack.responses == [] and h.core.store.get_subscription("slack", CHANNEL) is None

    scenario(test)


def test_health_endpoint_reports_the_database_and_platforms(scenario):
    async def test(h: SlackHarness) -> None:
        url = f"http://127.0.0.1:{h.runner.port}/healthz"
        response = await h.http.get(url)
        assert response.status_code == 200 and response.json() == {"status": "ok"}  # anyone: no details
        detailed = await h.http.get(url, headers={"Authorization": "Bearer health-token"})
        assert detailed.json() == {"status": "ok", "platforms": ["slack"]}

    scenario(test, health_token="health-token")


# --- commands -----------------------------------------------------------------------------------------


def test_help_and_unknown_commands_answer_only_the_caller(scenario):
    async def test(h: SlackHarness) -> None:
        help_reply = await h.say("help", MEMBER)
        assert help_reply["response_type"] == "ephemeral" and h.shows(help_reply)
        assert (h.last.invocation.name, h.last.caller.user, h.last.caller.channel) == ("help", MEMBER, CHANNEL)
        unknown = await h.say("dance", MEMBER)
        assert h.last.invocation.name == "dance" and h.shows(unknown)

    scenario(test)


def test_subscribe_is_announced_in_channel_and_unsubscribe_keeps_settings(scenario):
    async def test(h: SlackHarness) -> None:
        reply = await h.say("subscribe", MEMBER)
        assert reply["response_type"] == "in_channel" and f"<@{MEMBER}> subscribed" in text_of(reply)
        assert h.core.store.get_subscription("slack", CHANNEL).workspace == h.slack.team_id
        assert h.shows(await h.say("unsubscribe", CREATOR + "X"))
        assert h.core.store.get_subscription("slack", CHANNEL).active
        assert "unsubscribed this channel" in text_of(await h.say("unsubscribe", MEMBER))
        assert h.shows(await h.say("stats", MEMBER))

    scenario(test)


def test_settings_commands_need_an_admin_the_channel_creator_or_digest_admins(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe", MEMBER)
        refused = await h.say("threshold 9 9", MEMBER)
        assert refused["response_type"] == "ephemeral" and h.shows(refused)
        assert h.last.caller.admin_rule == ADMIN_RULE
        assert "relevance ≥ 9" in text_of(await h.say("threshold 9 9", ADMIN))  # users.info says admin
        assert "relevance ≥ 8" in text_of(await h.say("threshold 8 8", CREATOR))  # conversations.info creator
        assert "relevance ≥ 7" in text_of(await h.say("threshold 7 7", "UFRIEND"))  # DIGEST_ADMINS
        assert {c.method for c in slack.calls} >= {"users.info", "conversations.info"}

    scenario(test, admins="UFRIEND")


def test_threshold_categories_schedule_and_empty_days_change_the_channel_profile(scenario):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        assert h.shows(await h.say("threshold 0 20")) and h.last.invocation.args == ("0", "20")
        assert h.shows(await h.say("threshold 8 5"))
        assert h.shows(await h.say("categories cs.LG cs.XX"))
        assert h.shows(await h.say("categories cs.CL stat.ML"))
        assert "07:30 Asia/Tokyo" in text_of(await h.say("schedule 07:30 Asia/Tokyo"))
        assert "a short line is posted" in text_of(await h.say("empty-days on"))
        sub = h.core.store.get_subscription("slack", CHANNEL)
        profile = h.core.store.profile_by_id(sub.profile_id)
        assert (profile.min_relevance, profile.min_novelty, profile.categories) == (8, 5, ("cs.CL", "stat.ML"))
        assert (sub.schedule_time, sub.timezone, sub.post_empty_days) == ("07:30", "Asia/Tokyo", True)

    scenario(test)


def test_weekly_is_read_by_members_and_turned_on_by_admins(scenario):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        shown = await h.say("weekly", MEMBER)
        assert shown["response_type"] == "ephemeral" and h.shows(shown)
        turned = await h.say("weekly on thu 17:45")
        assert turned["response_type"] == "in_channel" and h.shows(turned)
        assert h.last.invocation.args == ("on", "thu", "17:45")
        sub = h.core.store.get_subscription("slack", CHANNEL)
        assert (sub.weekly_day, sub.weekly_time) == (4, "17:45")

    scenario(test)


def test_a_criteria_change_is_previewed_by_its_button_and_only_admins_may_press_it(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.posted_digest()
        await h.command("criteria edit", ADMIN)
        await until(lambda: slack.calls_to("views.open"))
        await h.submit(slack.calls_to("views.open")[0].args["view"], ["Only papers on sparse attention.", None])
        await until(lambda: slack.calls_to("chat.postEphemeral"))
        [row] = [b for b in slack.calls_to("chat.postEphemeral")[0].args["blocks"] if b["type"] == "actions"]
        assert [e["text"]["text"] for e in row["elements"]] == ["Preview", "Apply", "Discard"]
        preview = row["elements"][0]

        async def press(user: str) -> dict[str, Any]:
            before = len(slack.responses)
            assert (await h.click(preview["action_id"], preview["value"], user)).status_code == 200
            await until(lambda: len(slack.responses) > before, 10)
            return slack.responses[before]

        refused = await press(MEMBER)
        assert h.shows(refused) and "Only workspace admins" in text_of(refused)
        shown = await press(ADMIN)
        assert h.last.invocation.name == "criteria preview" and h.shows(shown)
        assert "under the new criteria" in text_of(shown) and shown["response_type"] == "ephemeral"
        assert [e["value"] for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
            "criteria apply", "criteria discard"]
        assert "Criteria v1" in text_of(await h.say("criteria", MEMBER))  # nothing applied

    scenario(test)


def test_criteria_edit_opens_a_prefilled_modal_and_a_valid_submission_is_announced(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        shown = text_of(await h.say("criteria", MEMBER))
        assert "Criteria v1" in shown
        response = await h.command("criteria edit", ADMIN)
        assert response.status_code == 200
        await until(lambda: slack.calls_to("views.open"))
        view = slack.calls_to("views.open")[0].args["view"]
        assert view["callback_id"] == CRITERIA_CALLBACK
        inputs = [b for b in view["blocks"] if b["type"] == "input"]
        assert inputs[0]["element"]["initial_value"] == h.core.store.profile_by_id(1).criteria[:3000]
        submitted = await h.submit(view, ["Only papers on sparse attention kernels.", None])
        assert submitted.status_code == 200 and submitted.text == ""  # closes the modal
        await until(lambda: slack.calls_to("chat.postEphemeral"))
        waiting = slack.calls_to("chat.postEphemeral")[0].args
        assert waiting["user"] == ADMIN and "waits for you" in text_of(waiting)
        [row] = [b for b in waiting["blocks"] if b["type"] == "actions"]
        assert [(e["text"]["text"], e["value"]) for e in row["elements"]] == [
            ("Apply", "criteria apply"), ("Discard", "criteria discard")]  # no digest yet: nothing to preview
        before = len(slack.responses)
        assert (await h.click(row["elements"][0]["action_id"], "criteria apply", ADMIN)).status_code == 200
        await until(lambda: len(slack.responses) > before)
        applied = slack.responses[before]
        assert h.last.invocation.name == "criteria apply" and h.last.caller.user == ADMIN and h.shows(applied)
        assert "changed the criteria (v2" in text_of(applied)
        assert "sparse attention kernels" in text_of(await h.say("criteria", MEMBER))
        assert "v2" in text_of(await h.say("criteria history", MEMBER))
        assert h.shows(await h.say("criteria undo")) and h.last.invocation.name == "criteria undo"

    scenario(test)


def test_invalid_criteria_are_answered_inside_the_modal(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.command("criteria edit", ADMIN)
        await until(lambda: slack.calls_to("views.open"))
        view = slack.calls_to("views.open")[0].args["view"]
        empty = (await h.submit(view, ["   ", None])).json()
        assert empty["response_action"] == "errors" and "empty" in empty["errors"]["criteria_0"]
        too_long = (await h.submit(view, ["x" * 3000, "y" * 3000, "z" * 2500])).json()
        assert "limit is 8000" in too_long["errors"]["criteria_0"]
        refused = (await h.submit(view, ["fine"], user=MEMBER)).json()
        assert "Only workspace admins" in refused["errors"]["criteria_0"]
        assert "Criteria v1" in text_of(await h.say("criteria", MEMBER))

    scenario(test)


def test_a_non_admin_gets_no_modal(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        assert h.shows(await h.say("criteria edit", MEMBER)) and h.last.reply.editor is None
        assert slack.calls_to("views.open") == []

    scenario(test)


# --- the digest in the channel ----------------------------------------------------------------------


def test_run_acks_at_once_then_posts_a_parent_and_one_thread_reply_per_paper(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        started = time.monotonic()
        response = await h.command("run", MEMBER)
        assert response.status_code == 200 and "Working on it" in response.text
        assert time.monotonic() - started < 3
        await until(lambda: any("Posted the digest" in text_of(r) for r in slack.responses))
        posts = slack.posted(CHANNEL)
        parent = posts[0]
        assert "thread_ts" not in parent.args and "arXiv digest" in parent.args["text"]
        assert len(posts) > 2 and all(p.args["thread_ts"] == parent.response["ts"] for p in posts[1:])
        buttons = [e for b in posts[1].args["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert [b["action_id"] for b in buttons][:1] == [ABSTRACT_ACTION]

    scenario(test)


def test_a_rerun_posts_nothing_new_and_a_day_is_posted_once(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.posted_digest()
        count = len(slack.posted(CHANNEL))
        await h.command("run")
        await until(lambda: any("already in this channel" in text_of(r) for r in slack.responses))
        assert len(slack.posted(CHANNEL)) == count

    scenario(test)


def test_a_60_paper_day_fits_block_kit_limits_and_every_paper_is_posted(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.say("threshold 1 1")
        await h.posted_digest(timeout=30)
        attempts = slack.calls_to("chat.postMessage")
        assert all(c.ok for c in attempts), [c.response for c in attempts if not c.ok]
        papers = [c for c in attempts if c.args.get("thread_ts")]
        assert len(papers) == 60
        assert all(len(c.args["blocks"]) <= 50 for c in attempts)

    scenario(test, papers=60)


def test_rate_limited_posts_are_retried_after_retry_after_and_never_lost_or_doubled(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        slack.ratelimit_next(2, retry_after=0)
        await h.posted_digest()
        posts = slack.posted(CHANNEL)
        rejected = [r for r in slack.requests_to("/api/chat.postMessage") if r.status == 429]
        assert len(rejected) == 2
        assert len({p.response["ts"] for p in posts}) == len(posts)
        run = h.core.store.get_run(h.core.store.get_subscription("slack", CHANNEL).profile_id, DAY)
        assert len(posts) == run.relevant + 1

    scenario(test)


def test_a_workspace_refusing_posts_longer_than_the_clients_retries_still_gets_each_message_once(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        slack.ratelimit_next(8, retry_after=0)  # the client's own handler gives up after 5
        await h.posted_digest(timeout=30)
        posts = slack.posted(CHANNEL)
        rejected = [r for r in slack.requests_to("/api/chat.postMessage") if r.status == 429]
        assert len(rejected) == 8
        assert len({p.response["ts"] for p in posts}) == len(posts)
        run = h.core.store.get_run(h.core.store.get_subscription("slack", CHANNEL).profile_id, DAY)
        assert len(posts) == run.relevant + 1

    scenario(test)


def test_posts_to_one_channel_are_paced(make_settings, arxiv, slack, tmp_path):
    from adapters.slack.app import make_client
    from adapters.slack.poster import SlackPoster
    from bot.domain.platform import Place

    settings = SlackSettings(_env_file=None, bot_token="xoxb-test", api_url=slack.base_url)

    async def main() -> None:
        client = make_client(settings, "xoxb-test")

        async def client_for(_: str) -> Any:
            return client

        poster = SlackPoster(client_for, interval=0.15)
        for i in range(4):
            await poster.post_text(Place("T0TEST", CHANNEL), f"line {i}")

    asyncio.run(main())
    times = [c.time for c in slack.posted(CHANNEL)]
    assert len(times) == 4 and all(b - a >= 0.14 for a, b in itertools.pairwise(times))


# --- buttons, abstracts and reactions ---------------------------------------------------------------


def test_abstract_by_rank_and_by_button_is_ephemeral_and_complete(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.posted_digest()
        first_paper = slack.posted(CHANNEL)[1].args["blocks"][-1]["elements"][0]["value"]
        by_rank = await h.say("abstract 1", MEMBER)
        assert by_rank["response_type"] == "ephemeral" and "mixture of experts" in text_of(by_rank)
        before = len(slack.responses)
        await h.click(ABSTRACT_ACTION, first_paper)
        await until(lambda: len(slack.responses) > before)
        assert "mixture of experts" in text_of(slack.responses[-1])
        assert h.shows(await h.say("abstract 2401.99999", MEMBER)) and h.last.invocation.args == ("2401.99999",)

    scenario(test)


def test_bibtex_by_rank_is_an_ephemeral_code_block(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.posted_digest()
        by_rank = await h.say("bibtex 1", MEMBER)
        assert h.shows(by_rank) and h.last.invocation.args == ("1",)
        assert "```@misc{" in text_of(by_rank) and "archivePrefix = {arXiv}" in text_of(by_rank)

    scenario(test)


def test_export_liked_shares_a_bib_file_in_the_channel_through_file_upload_v2(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.posted_digest()
        paper = slack.posted(CHANNEL)[1].response["ts"]
        await h.reaction("+1", paper, event_id="Ev1")
        await until(lambda: len(h.core.store.feedback_for("slack", CHANNEL)) == 1)
        await h.command("export liked 7", MEMBER)
        await until(lambda: len(slack.files) == 1)
        [shared] = slack.files
        assert [c.method for c in slack.calls if c.method.startswith("files.")] == [
            "files.getUploadURLExternal", "files.completeUploadExternal"
        ]
        assert shared["channels"] == [CHANNEL] and shared["name"].endswith("-7d.bib")
        assert shared["initial_comment"] == f"<@{MEMBER}> exported the 1 paper liked here in the last 7 days as BibTeX."
        library = bibtexparser.parse_string(shared["content"].decode("utf-8"))
        assert library.failed_blocks == [] and len(library.entries) == 1
        recorded = json.loads((FIXTURES / "files_completeUploadExternal.json").read_text())
        answer = next(c.response for c in slack.calls if c.method == "files.completeUploadExternal")
        assert set(answer["files"][0]) <= set(recorded["files"][0]) and set(answer) == set(recorded)
        recorded_url = json.loads((FIXTURES / "files_getUploadURLExternal.json").read_text())
        upload_url = next(c.response for c in slack.calls if c.method == "files.getUploadURLExternal")
        assert set(upload_url) == set(recorded_url)

        slack.fail_method("files.completeUploadExternal", needed="files:write")  # an install from before
        refused = await h.say("export liked", MEMBER)
        assert refused["response_type"] == "ephemeral" and "it needs the files:write scope" in text_of(refused)

    scenario(test)


def test_abstract_buttons_and_the_command_share_the_per_person_look_up_limit(scenario, arxiv, slack):
    """Two Abstract clicks on papers arXiv must be asked about are the person's two look-ups: a third, by
    command, waits for them like a third command would."""

    async def test(h: SlackHarness) -> None:
        arxiv.latency = 1.0  # each look-up is still under way when the next request arrives
        asked = len(arxiv.requests)
        for n in range(PER_PERSON):
            await h.click(ABSTRACT_ACTION, f"2601.{90000 + n}")
        await until(lambda: len(arxiv.requests) > asked)  # the lane is asking arXiv for the first click
        await h.command("abstract 2601.90009", MEMBER)
        await until(lambda: len(slack.responses) == 1 + PER_PERSON)
        texts = sorted(r["text"] for r in slack.responses)
        assert texts == [
            f"One moment: you already have {PER_PERSON} look-ups running. Ask again when they have been answered.",
            *(f"arXiv has no paper 2601.9000{n}. Check the ID." for n in range(PER_PERSON)),
        ]

    scenario(test)


def test_vote_button_stores_feedback_and_pressing_again_takes_it_back(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.posted_digest()
        paper = slack.posted(CHANNEL)[1].args["blocks"][-1]["elements"][1]["value"]
        for expected in ("Noted: 👍", "Took back your 👍"):
            before = len(slack.responses)
            await h.click(VOTE_UP_ACTION, paper)
            await until(lambda: len(slack.responses) > before)  # noqa: B023
            assert expected in text_of(slack.responses[-1])

    scenario(test)


def test_reactions_map_to_papers_and_resent_events_count_once(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.posted_digest()
        parent, paper = slack.posted(CHANNEL)[0].response["ts"], slack.posted(CHANNEL)[1].response["ts"]
        store = h.core.store
        assert (await h.reaction("+1::skin-tone-2", paper, event_id="Ev1")).status_code == 200
        await h.reaction("+1::skin-tone-2", paper, event_id="Ev1", retry=1)  # Slack re-sends
        await h.reaction("eyes", paper, event_id="Ev2")
        await h.reaction("fire", parent, event_id="Ev3")  # the summary: not a paper
        await h.reaction("pizza", paper, event_id="Ev4")  # not in the map
        await until(lambda: len(store.feedback_for("slack", CHANNEL)) == 2)
        await asyncio.sleep(0.2)
        assert sorted((f.kind, f.emoji) for f in store.feedback_for("slack", CHANNEL)) == [
            ("later", "👀"), ("positive", "👍")
        ]
        await h.reaction("+1", paper, added=False, event_id="Ev5")
        await until(lambda: len(store.feedback_for("slack", CHANNEL)) == 1)

    scenario(test)


def test_stats_reports_posts_spend_and_reactions(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.posted_digest()
        text = text_of(await h.say("stats", MEMBER))
        assert "Digests posted" in text and "LLM use" in text and "Reactions: none yet" in text

    scenario(test)


# --- Socket Mode -----------------------------------------------------------------------------------


def test_socket_mode_dispatches_a_slash_command_and_acks_the_envelope(make_settings, arxiv, slack):
    arxiv.set_day(DAY, sample_papers(6))
    settings = make_settings()
    store = Store.open(settings.database_url)
    with SocketModeStandIn() as socket:
        slack.socket_url = socket.url
        slack_settings = SlackSettings(_env_file=None, bot_token="xoxb-test", app_token="xapp-test",
                                       api_url=slack.base_url, post_interval=0)

        async def main() -> None:
            runner = SlackRunner(build_core(settings, store), slack_settings)
            await runner.start()
            try:
                await asyncio.to_thread(socket.wait_connected)
                envelope = await asyncio.to_thread(socket.send_envelope, "slash_commands", {
                    "team_id": slack.team_id, "channel_id": CHANNEL, "user_id": MEMBER, "command": "/arxiv",
                    "text": "subscribe", "response_url": slack.response_url(), "trigger_id": "t.1",
                    "api_app_id": slack.app_id,
                })
                ack = await socket.wait_ack_async(envelope)
                assert ack["envelope_id"] == envelope
                await until(lambda: slack.responses)
                assert "subscribed this channel" in text_of(slack.responses[0])
                event = await asyncio.to_thread(socket.send_envelope, "events_api", {
                    "team_id": slack.team_id, "api_app_id": slack.app_id, "type": "event_callback",
                    "event_id": "EvS1", "event_time": 1,
                    "event": {"type": "reaction_added", "user": MEMBER, "reaction": "+1",
                              "item": {"type": "message", "channel": CHANNEL, "ts": "1.1"}},
                })
                await socket.wait_ack_async(event)
            finally:
                await runner.stop()

        asyncio.run(main())
    assert store.get_subscription("slack", CHANNEL) is not None
    store.close()


def test_an_interrupted_digest_is_finished_by_the_next_run_without_duplicates(scenario, slack):
    async def test(h: SlackHarness) -> None:
        await h.say("subscribe")
        await h.say("threshold 1 1")
        slack.latency = 0.05  # every post takes a moment, so the cut lands half-way

        async def cut_off() -> None:  # the channel breaks while the digest is half posted
            await until(lambda: len(slack.posted(CHANNEL)) >= 4)
            slack.fail_channel(CHANNEL, "not_in_channel")

        watcher = asyncio.create_task(cut_off())
        await h.command("run")
        await until(lambda: any("not in this channel" in text_of(r) for r in slack.responses))
        await watcher
        half = len(slack.posted(CHANNEL))
        assert 4 <= half < 13
        slack.channel_errors.clear()
        await h.posted_digest()
        posts = slack.posted(CHANNEL)
        papers = [p.args["blocks"][-1]["elements"][0]["value"] for p in posts if p.args.get("thread_ts")]
        assert len(papers) == len(set(papers)) == 12
        assert sum(1 for p in posts if "thread_ts" not in p.args) == 1  # one parent message

    scenario(test)
