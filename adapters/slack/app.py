"""The Slack app: bolt listeners that translate Slack's requests into calls on the command core.

Every listener acknowledges first (Slack waits 3 s at most) and does the work after; what to answer
is decided in :mod:`bot.commands`, how it looks in :mod:`adapters.slack.blocks`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import (
    ABSTRACT_ACTION,
    CRITERIA_CALLBACK,
    CRITERIA_ERROR_BLOCK,
    VOTE_DOWN_ACTION,
    VOTE_UP_ACTION,
    Message,
    abstract_message,
    criteria_from_submission,
    criteria_modal,
    text_message,
)
from adapters.slack.config import SlackSettings
from adapters.slack.markup import SlackMarkup
from adapters.slack.poster import SlackPoster
from bot.commands import DIRECT_FAILED, DIRECT_SENT, Caller, CommandCore, Reply, parse
from bot.errors import CriteriaError

log = logging.getLogger(__name__)
MARKUP = SlackMarkup()
ADMIN_RULE = "workspace admins, the channel's creator"
COMMAND = "/arxiv"
WORKING = {
    "run": "Working on it: fetching and scoring today's papers for this channel…",
    "abstract": "Looking the paper up…",
}
# What to do about the errors Slack gives when the bot cannot open or post to someone's DM.
_DIRECT_FIXES = {
    "missing_scope": "the app is not allowed to open direct messages. Ask a workspace admin to reinstall the app "
                     "(it needs the im:write scope)",
    "cannot_dm_bot": "Slack does not let apps send direct messages to bot users",
    "user_not_found": "Slack did not find your account in this workspace",
    "user_disabled": "Slack says your account is deactivated",
}


def make_client(settings: SlackSettings, token: str | None) -> AsyncWebClient:
    """A Web API client on SLACK_API_URL that waits out 429s (Retry-After) and sends the call again."""
    client = AsyncWebClient(token=token, base_url=settings.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    return client


class SlackBot:
    """The bolt app plus the poster the digest service uses for Slack channels."""

    def __init__(
        self,
        core: CommandCore,
        settings: SlackSettings,
        *,
        installation_store: AsyncInstallationStore | None = None,
        oauth_settings: AsyncOAuthSettings | None = None,
    ) -> None:
        self.core = core
        self.settings = settings
        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        self.installation_store = installation_store
        self.app = AsyncApp(
            name="arxiv-digest",
            client=make_client(settings, None if oauth_settings else token),
            signing_secret=settings.signing_secret.get_secret_value() if settings.signing_secret else "",
            oauth_settings=oauth_settings,
            installation_store=installation_store,
            # Socket Mode requests are authenticated by the websocket itself, not by a signature.
            request_verification_enabled=settings.mode != "socket",
        )
        self.poster = SlackPoster(self.client_for, interval=settings.post_interval)
        core.service.register(self.poster)
        self._register()

    async def client_for(self, workspace: str) -> AsyncWebClient:
        """The client to post in a workspace: the one bot token, or the token its install stored."""
        if self.installation_store is None:
            return self.app.client
        bot = await self.installation_store.async_find_bot(enterprise_id=None, team_id=workspace)
        if bot is None:
            raise LookupError(f"the Slack app is not installed in workspace {workspace}; install it again")
        return make_client(self.settings, bot.bot_token)

    def caller(self, client: AsyncWebClient, team: str, channel: str, user: str) -> Caller:
        async def is_admin() -> bool:
            try:
                member = (await client.users_info(user=user))["user"]
                if member.get("is_admin") or member.get("is_owner") or member.get("is_primary_owner"):
                    return True
                info = await client.conversations_info(channel=channel)
                return info["channel"].get("creator") == user
            except SlackApiError as exc:  # missing scope, unknown channel: not provably an admin
                log.warning("Slack permission check failed: %s", exc.response.get("error"))
                return False

        return Caller("slack", team, channel, user, is_admin, ADMIN_RULE)

    # listeners -----------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.command(COMMAND)(self.on_command)
        app.action(ABSTRACT_ACTION)(self.on_abstract)
        app.action(VOTE_UP_ACTION)(self.on_vote)
        app.action(VOTE_DOWN_ACTION)(self.on_vote)
        app.view(CRITERIA_CALLBACK)(self.on_criteria_submitted)
        app.event("reaction_added")(self.on_reaction)
        app.event("reaction_removed")(self.on_reaction)
        app.error(self.on_error)

    async def on_command(self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        invocation = parse(body.get("text", ""))
        await ack(WORKING.get(invocation.name, ""))
        caller = self.caller(client, body.get("team_id", ""), body["channel_id"], body["user_id"])
        reply = await self.core.execute(caller, invocation, MARKUP)
        if reply.editor is not None:
            metadata = json.dumps({"team": caller.workspace, "channel": caller.channel})
            view = criteria_modal(reply.editor, max_chars=self.core.settings.max_criteria_chars,
                                  private_metadata=metadata)
            await client.views_open(trigger_id=body["trigger_id"], view=view)
            return
        if reply.direct:
            await self._respond_directly(reply, caller.user, client, respond)
            return
        await self._respond(reply, respond)

    async def on_abstract(self, ack: Any, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await self._respond(await self.core.abstract(action["value"]), respond)

    async def on_vote(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        kind = "positive" if action["action_id"] == VOTE_UP_ACTION else "negative"
        caller = self.caller(client, body["team"]["id"], body["channel"]["id"], body["user"]["id"])
        await self._respond(self.core.vote(caller, action["value"], kind), respond)

    async def on_criteria_submitted(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        caller = self.caller(client, metadata.get("team", ""), metadata.get("channel", ""), body["user"]["id"])
        try:
            reply = await self.core.save_criteria(caller, criteria_from_submission(view["state"]["values"]), MARKUP)
        except CriteriaError as exc:
            await ack(response_action="errors", errors={CRITERIA_ERROR_BLOCK: str(exc)})
            return
        await ack()
        message = text_message(reply.text).payload()
        if reply.public:
            await client.chat_postMessage(channel=caller.channel, **message)
        else:
            await client.chat_postEphemeral(channel=caller.channel, user=caller.user, **message)

    async def on_reaction(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        self.core.reaction(
            "slack", item["channel"], item["ts"], event["user"], event["reaction"],
            added=event["type"] == "reaction_added", event_id=body.get("event_id"),
        )

    async def on_error(self, error: Exception, body: dict[str, Any], respond: AsyncRespond | None = None) -> None:
        log.error("Slack request failed: %s", error, exc_info=error)
        if respond is not None and body.get("response_url"):
            await respond(
                text=f"Sorry, that failed: {error}. It was logged; try again in a minute.",
                response_type="ephemeral", replace_original=False,
            )

    @staticmethod
    async def _respond(reply: Reply, respond: AsyncRespond) -> None:
        message = _message(reply)
        await respond(
            **message.payload(), response_type="in_channel" if reply.public else "ephemeral", replace_original=False
        )

    @staticmethod
    async def _respond_directly(reply: Reply, user: str, client: AsyncWebClient, respond: AsyncRespond) -> None:
        """The reply in the caller's DM with the bot, and a private note where they asked. When Slack refuses
        the DM, the note says why and what to do, and the reply is shown privately instead."""
        message = _message(reply)
        try:
            opened = await client.conversations_open(users=user)
            await client.chat_postMessage(channel=opened["channel"]["id"], **message.payload(), unfurl_links=False)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            log.warning("Slack: could not send %s a direct message (%s)", user, error)
            fix = _DIRECT_FIXES.get(error, f"Slack refused it ({error}); try again later")
            for shown in (text_message(DIRECT_FAILED.format(fix=fix)), message):
                await respond(**shown.payload(), response_type="ephemeral", replace_original=False)
            return
        await respond(**text_message(DIRECT_SENT).payload(), response_type="ephemeral", replace_original=False)


def _message(reply: Reply) -> Message:
    return abstract_message(reply.paper) if reply.paper else text_message(reply.text)
