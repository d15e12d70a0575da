"""The Slack app: bolt listeners that translate Slack's requests into calls on the command core.

Every listener acknowledges first (Slack waits 3 s at most) and does the work after; what to answer
is decided in :mod:`bot.chat.commands`, how it looks in :mod:`adapters.slack.blocks`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import (
    ABSTRACT_ACTION,
    CRITERIA_CALLBACK,
    CRITERIA_ERROR_BLOCK,
    CRITERIA_INPUT_ACTION,
    REPLY_ACTION,
    VOTE_DOWN_ACTION,
    VOTE_UP_ACTION,
    Message,
    abstract_message,
    criteria_from_submission,
    criteria_modal,
    text_message,
    with_actions,
)
from adapters.slack.config import SlackSettings
from adapters.slack.http import clip, request_kind
from adapters.slack.markup import SlackMarkup
from adapters.slack.poster import SlackPoster
from adapters.slack.threads import Mention, read_mention, thread_root
from bot.chat.commands import DIRECT_FAILED, DIRECT_SENT, CommandCore, parse
from bot.domain.errors import CriteriaError, report_failure
from bot.domain.platform import Caller, Reply

log = logging.getLogger(__name__)
MARKUP = SlackMarkup()
ADMIN_RULE = "workspace admins, the channel's creator"
COMMAND = "/arxiv"
WORKING = {
    "run": "Working on it: fetching and scoring today's papers for this channel…",
    "abstract": "Looking the paper up…",
    "ask": "Reading the paper…",
}
IN_THREAD = "The answer is in the paper's thread."
# What to do about the errors Slack gives when the bot cannot open or post to someone's DM.
_DIRECT_FIXES = {
    "missing_scope": "the app is not allowed to open direct messages. Ask a workspace admin to reinstall the app "
                     "(it needs the im:write scope)",
    "cannot_dm_bot": "Slack does not let apps send direct messages to bot users",
    "user_not_found": "Slack did not find your account in this workspace",
    "user_disabled": "Slack says your account is deactivated",
}

# What to do about the errors Slack gives when the bot cannot share a file in the channel.
_FILE_FIXES = {
    "missing_scope": "the app is not allowed to upload files. Ask a workspace admin to reinstall the app (it needs "
                     "the files:write scope)",
    "not_in_channel": "the app is not in this channel. Invite it first (/invite, then the app's name)",
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
            # Requests no listener takes go to on_error, which logs one line and acknowledges them
            # (bolt's own warning prints the whole body; a 404 makes Slack retry the event).
            raise_error_for_unhandled_request=True,
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
        app.action(re.compile(f"^{REPLY_ACTION}:"))(self.on_reply_action)
        app.view(CRITERIA_CALLBACK)(self.on_criteria_submitted)
        app.event("reaction_added")(self.on_reaction)
        app.event("reaction_removed")(self.on_reaction)
        app.event("app_mention")(self.on_mention)
        app.error(self.on_error)

    async def on_command(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None
    ) -> None:
        channel, user = _text(body, "channel_id"), _text(body, "user_id")
        if channel is None or user is None or respond is None or not _can_respond(body):
            await ack()
            _ignored("slash command", "no channel_id, user_id or response_url")
            return
        invocation = parse(_text(body, "text") or "")
        await ack(WORKING.get(invocation.name, ""))
        caller = self.caller(client, _text(body, "team_id") or "", channel, user)
        reply = await self.core.execute(caller, invocation, MARKUP)
        if reply.editor is not None:
            trigger = _text(body, "trigger_id")
            if trigger is None:
                _ignored("slash command", "no trigger_id to open the editor with")
                return
            metadata = json.dumps({"team": caller.workspace, "channel": caller.channel})
            view = criteria_modal(reply.editor, max_chars=self.core.settings.max_criteria_chars,
                                  private_metadata=metadata)
            await client.views_open(trigger_id=trigger, view=view)
            return
        if reply.direct:
            await self._respond_directly(reply, caller.user, client, respond)
            return
        if reply.file is not None:
            await _post_file(reply, caller.channel, client, respond)
            return
        if reply.thread is not None and reply.public:  # an answer about a paper: in the paper's thread
            root = await thread_root(client, caller.channel, reply.thread)
            if root is not None and await _post_in_thread(reply, client, caller.channel, caller.user, root):
                await respond(**text_message(IN_THREAD).payload(), response_type="ephemeral", replace_original=False)
                return
        await self._respond(reply, respond)

    async def on_abstract(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
        respond: AsyncRespond | None,
    ) -> None:
        await ack()
        user, value = _text(body, "user", "id"), _text(action, "value")
        if user is None or value is None or respond is None or not _can_respond(body):
            _ignored("Abstract click", "no user, value or response_url")
            return
        # Whoever clicked: their look-ups count against the same per-person limit as /arxiv abstract.
        channel = _text(body, "channel", "id") or _text(body, "container", "channel_id") or ""
        caller = self.caller(client, _text(body, "team", "id") or "", channel, user)
        await self._respond(await self.core.abstract(value, caller), respond)

    async def on_vote(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
        respond: AsyncRespond | None,
    ) -> None:
        await ack()
        clicked = self._clicked(body, action, client, respond, "vote click")
        if clicked is not None and respond is not None:
            kind = "positive" if action.get("action_id") == VOTE_UP_ACTION else "negative"
            await self._respond(await self.core.vote(*clicked, kind), respond)

    async def on_reply_action(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
        respond: AsyncRespond | None,
    ) -> None:
        """A button under one of the core's replies (Preview, Apply, Discard of a criteria change)."""
        await ack()
        clicked = self._clicked(body, action, client, respond, "button click")
        if clicked is not None and respond is not None:
            await self._respond(await self.core.press(*clicked, MARKUP), respond)

    def _clicked(
        self, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None,
        what: str,
    ) -> tuple[Caller, str] | None:
        """Who clicked a channel message's button, and its value; None (logged) for a malformed click."""
        channel = _text(body, "channel", "id") or _text(body, "container", "channel_id")
        user, value = _text(body, "user", "id"), _text(action, "value")
        if channel is None or user is None or value is None or respond is None or not _can_respond(body):
            _ignored(what, "no channel, user, value or response_url")
            return None
        return self.caller(client, _text(body, "team", "id") or "", channel, user), value

    async def on_criteria_submitted(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        metadata = _metadata(view.get("private_metadata"))
        channel, user = _text(metadata, "channel"), _text(body, "user", "id")
        values = _criteria_values(view.get("state"))
        if channel is None or user is None or values is None:
            await ack()
            _ignored("criteria submission", "no channel in its metadata, no user or no input values")
            return
        caller = self.caller(client, _text(metadata, "team") or "", channel, user)
        try:
            reply = await self.core.save_criteria(caller, criteria_from_submission(values), MARKUP)
        except CriteriaError as exc:
            await ack(response_action="errors", errors={CRITERIA_ERROR_BLOCK: str(exc)})
            return
        await ack()
        message = _message(reply).payload()
        if reply.public:
            await client.chat_postMessage(channel=caller.channel, **message)
        else:
            await client.chat_postEphemeral(channel=caller.channel, user=caller.user, **message)

    async def on_reaction(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if _text(event, "item", "type") != "message":
            return  # a reaction on a file or a file comment: not a paper
        channel, ts = _text(event, "item", "channel"), _text(event, "item", "ts")
        user, name = _text(event, "user"), _text(event, "reaction")
        if channel is None or ts is None or user is None or name is None:
            _ignored("reaction event", "no channel, ts, user or reaction")
            return
        await self.core.reaction("slack", channel, ts, user, name, added=event.get("type") == "reaction_added",
                                 event_id=_text(body, "event_id"))

    async def on_mention(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """A member mentioned the bot: a question about a paper, answered in the thread it was asked in (or the
        paper's). Slack sends an event again when it saw no quick 200; its event_id says it was handled."""
        mention = read_mention(event, context.bot_user_id)
        if isinstance(mention, str):
            log.info("Slack: ignored an app_mention event (%s)", mention)
            return
        caller = self.caller(client, _text(body, "team_id") or "", mention.channel, mention.user)
        try:
            reply = await self.core.ask_mention(caller, mention.text, thread=mention.thread, replied_to=None,
                                                markup=MARKUP, event_id=_text(body, "event_id"))
        except Exception as exc:  # say so in the thread, with the log's reference, never the error's text
            reply = Reply(report_failure(log, "Slack: a question to the bot", exc), thread=mention.thread)
        if reply is not None:  # None: a retry of an event already answered
            await self._answer_mention(reply, client, mention)

    async def _answer_mention(self, reply: Reply, client: AsyncWebClient, mention: Mention) -> None:
        """Where the answer goes: the thread the core names (a paper message's thread is its root's), else the
        thread it was asked in, else a new thread under the question itself. A refusal is shown to the asker
        where they asked (Slack shows an ephemeral message in a thread only once the thread exists)."""
        if not reply.public:
            await _post_in_thread(reply, client, mention.channel, mention.user, mention.thread)
            return
        root = mention.thread or mention.ts
        if reply.thread is not None and reply.thread != mention.thread:
            root = await thread_root(client, mention.channel, reply.thread) or root
        posted = await _post_in_thread(reply, client, mention.channel, mention.user, root)
        if posted and mention.thread is None and root != mention.ts:
            # asked at the channel's top level, answered in the paper's thread: say where, to the asker alone
            with contextlib.suppress(SlackClientError):
                await client.chat_postEphemeral(channel=mention.channel, user=mention.user,
                                                **text_message(IN_THREAD).payload())

    async def on_error(
        self, error: Exception, body: dict[str, Any], respond: AsyncRespond | None = None
    ) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):  # an event or action this app does not handle
            log.info("Slack: acknowledged a %s request no listener handles", clip(request_kind(body), 40))
            return BoltResponse(status=200, body="")
        # The core's wording and log reference, as for a failure inside a command.
        text = report_failure(log, f"Slack {clip(request_kind(body), 40)} request", error)
        if respond is not None and isinstance(body, dict) and body.get("response_url"):
            try:
                await respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception as exc:  # the response_url is gone or unreachable: the log line above suffices
                log.warning("Slack: could not tell the user that their request failed (%s)", type(exc).__name__)
        return None

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
            log.warning("Slack: could not send %s a direct message (%s)", clip(user, 40), clip(error, 60))
            fix = _DIRECT_FIXES.get(error, f"Slack refused it ({error}); try again later")
            for shown in (text_message(DIRECT_FAILED.format(fix=fix)), message):
                await respond(**shown.payload(), response_type="ephemeral", replace_original=False)
            return
        await respond(**text_message(DIRECT_SENT).payload(), response_type="ephemeral", replace_original=False)


async def _post_file(reply: Reply, channel: str, client: AsyncWebClient, respond: AsyncRespond) -> None:
    """The reply's file shared in the channel with its text as the comment (files_upload_v2:
    files.getUploadURLExternal, the bytes, files.completeUploadExternal). When Slack refuses, the caller is told
    privately why and what to do."""
    assert reply.file is not None
    name, content = reply.file
    try:
        await client.files_upload_v2(channel=channel, filename=name, title=name, content=content,
                                     initial_comment=reply.text)
    except SlackClientError as exc:
        error = str(exc.response.get("error", "")) if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("Slack: could not share %s in %s (%s)", name, clip(channel, 40), clip(error, 60))
        fix = _FILE_FIXES.get(error, f"Slack refused it ({error}); try again later")
        await respond(**text_message(f"I could not share the file here: {fix}.").payload(),
                      response_type="ephemeral", replace_original=False)


async def _post_in_thread(
    reply: Reply, client: AsyncWebClient, channel: str, user: str, root: str | None
) -> bool:
    """``reply`` in the thread of ``root`` (None: the channel itself): for the channel (public) or as an ephemeral
    message only ``user`` sees there. False (logged) when Slack refuses it, e.g. the app is not in the channel."""
    message = _message(reply).payload() | ({"thread_ts": root} if root else {})
    try:
        if reply.public:
            await client.chat_postMessage(channel=channel, **message, unfurl_links=False)
        else:
            await client.chat_postEphemeral(channel=channel, user=user, **message)
    except SlackClientError as exc:
        error = str(exc.response.get("error", "")) if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("Slack: could not answer in thread %s of %s (%s)", clip(root, 30), clip(channel, 30),
                    clip(error, 60))
        return False
    return True


def _text(node: object, *path: str) -> str | None:
    """The non-empty string at ``path`` in a payload, or None where anything on the way is missing or of
    another type (Slack's payloads are checked here, not trusted)."""
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, str) and node else None


def _can_respond(body: dict[str, Any]) -> bool:
    """Whether the payload carries a response_url that can be answered (an http(s) URL with a host)."""
    url = urlsplit(_text(body, "response_url") or "")
    return url.scheme in {"http", "https"} and bool(url.hostname)


def _metadata(raw: object) -> dict[str, Any]:
    """The criteria modal's private_metadata (JSON we wrote), or {} when it is not that."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _criteria_values(state: object) -> dict[str, Any] | None:
    """``view.state.values`` reduced to the well-formed text inputs, or None when there is no such mapping."""
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return None
    clean: dict[str, Any] = {}
    for block_id, actions in values.items():
        field = actions.get(CRITERIA_INPUT_ACTION) if isinstance(actions, dict) else None
        value = field.get("value") if isinstance(field, dict) else None
        clean[block_id] = {CRITERIA_INPUT_ACTION: {"value": value if isinstance(value, str) else None}}
    return clean


def _ignored(what: str, why: str) -> None:
    log.warning("Slack: ignored a malformed %s (%s)", what, why)


def _message(reply: Reply) -> Message:
    return abstract_message(reply.paper) if reply.paper else with_actions(text_message(reply.text), reply.actions)
