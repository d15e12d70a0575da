"""Multi-workspace installs (HTTP mode): the OAuth flow stores the workspace's bot token in our
database, and commands and posts in that workspace use it."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

import httpx

from adapters.slack.config import SlackSettings
from adapters.slack.runner import SlackRunner
from bot.bootstrap import build_core
from bot.domain.platform import Place
from storage.store import Store
from tests.adapters.slack.harness import CHANNEL, MEMBER, SECRET, SlackHarness, text_of, until


def test_installing_into_a_workspace_stores_its_token_and_commands_there_use_it(make_settings, slack, tmp_path):
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'oauth.db'}")
    store = Store.open(settings.database_url)
    slack.oauth_codes["code-123"] = slack.team_id
    slack_settings = SlackSettings(
        _env_file=None, signing_secret=SECRET, client_id=slack.client_id, client_secret=slack.client_secret,
        api_url=slack.base_url, post_interval=0, port=0,
    )

    async def main() -> None:
        runner = SlackRunner(build_core(settings, store), slack_settings, host="127.0.0.1")
        await runner.start()
        base = f"http://127.0.0.1:{runner.port}"
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                page = await http.get(f"{base}/slack/install")
                assert page.status_code == 200
                link = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page.text).group(1)
                query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
                assert "chat:write" in query["scope"][0]
                state = query["state"][0]
                cookie = page.headers["set-cookie"].split(";", 1)[0]  # secure cookie: sent by hand over http
                done = await http.get(f"{base}/slack/oauth_redirect", params={"code": "code-123", "state": state},
                                      headers={"Cookie": cookie})
                assert done.status_code == 200, done.text
                assert slack.calls_to("oauth.v2.access")[0].ok

                token = (await runner.bot.client_for(slack.team_id)).token
                assert token.startswith("xoxb-installed")
                harness = SlackHarness(slack, runner, http)
                reply = await harness.say("subscribe", MEMBER)
                assert "subscribed this channel" in text_of(reply)
                await runner.bot.poster.post_text(Place(slack.team_id, CHANNEL), "hello")
                await until(lambda: slack.posted(CHANNEL))
                assert slack.posted(CHANNEL)[0].token == token
                try:
                    await runner.bot.client_for("T0OTHER")
                except LookupError as exc:
                    assert "not installed" in str(exc)
                else:
                    raise AssertionError("a workspace without an install has no client")
        finally:
            await runner.stop()

    asyncio.run(main())
    store.close()
