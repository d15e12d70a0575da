"""How to drive discord.py 2.7 without a gateway: real payloads in, real REST calls out (to the stand-in).

These double as executable notes for the Discord adapter: each test is one recipe (slash command through a
CommandTree, modal submit, persistent dynamic button across a restart, raw reactions, permission checks).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.support.discord_api import (
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    USER_ID,
    DiscordStandIn,
    command_interaction,
    component_interaction,
    gateway_dispatch,
    logged_in,
    modal_submit_interaction,
    reaction_event,
    settle,
)

ABSTRACT_TEMPLATE = r"arxiv:abstract:(?P<id>[0-9a-z./-]+)"


class AbstractButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ABSTRACT_TEMPLATE):
    """A persistent "Abstract" button: its state (the arXiv id) lives in the custom_id, so restarts don't matter."""

    pressed: list[str] = []  # noqa: RUF012 (test probe shared by instances)

    def __init__(self, arxiv_id: str) -> None:
        super().__init__(discord.ui.Button(label="Abstract", custom_id=f"arxiv:abstract:{arxiv_id}"))
        self.arxiv_id = arxiv_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> AbstractButton:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        self.pressed.append(self.arxiv_id)
        await interaction.response.send_message(f"abstract of {self.arxiv_id}", ephemeral=True)


class CriteriaModal(discord.ui.Modal, title="Edit criteria"):
    """A paragraph text input; a fixed custom_id so the test can address the submission."""

    criteria: discord.ui.TextInput[CriteriaModal] = discord.ui.TextInput(
        label="Criteria", style=discord.TextStyle.paragraph, custom_id="criteria", max_length=4000
    )

    def __init__(self, submitted: list[str]) -> None:
        super().__init__(custom_id="arxiv:criteria", timeout=None)
        self.submitted = submitted

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.submitted.append(self.criteria.value)
        await interaction.response.send_message("Criteria saved.", ephemeral=True)


def build_bot(log: list[Any]) -> tuple[discord.Client, app_commands.CommandTree[discord.Client]]:
    """A client with `/arxiv threshold` (manage_guild only), `/arxiv criteria` (a modal) and the dynamic button."""
    client = discord.Client(intents=discord.Intents.default())
    tree = app_commands.CommandTree(client)
    arxiv = app_commands.Group(
        name="arxiv", description="arXiv digest settings", default_permissions=discord.Permissions(manage_guild=True)
    )

    @arxiv.command(name="threshold", description="Set the minimum scores")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def threshold(interaction: discord.Interaction, relevance: int, novelty: int) -> None:
        log.append(("threshold", relevance, novelty, interaction.user.id))
        await interaction.response.send_message(f"Thresholds: R ≥ {relevance}, N ≥ {novelty}", ephemeral=True)

    @arxiv.command(name="criteria", description="Edit the criteria")
    async def criteria(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(CriteriaModal(log))

    tree.add_command(arxiv)

    @tree.error
    async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.append(error)
        await interaction.response.send_message(f"Sorry: {error}", ephemeral=True)

    client.add_dynamic_items(AbstractButton)
    return client, tree


# a) slash command -------------------------------------------------------------------------------------


def test_slash_command_runs_and_answers_ephemerally(discord_api: DiscordStandIn) -> None:
    log: list[Any] = []

    async def main() -> None:
        client, _ = build_bot(log)
        async with logged_in(client):
            payload = command_interaction(
                "arxiv", "threshold", options={"relevance": 7, "novelty": 5}, permissions=MANAGE_GUILD
            )
            gateway_dispatch(client, "INTERACTION_CREATE", payload)
            await settle()

    asyncio.run(main())
    assert log == [("threshold", 7, 5, USER_ID)]
    [response] = discord_api.interaction_responses
    assert response["type"] == 4
    assert response["data"]["flags"] == 64  # ephemeral
    assert response["data"]["content"] == "Thresholds: R ≥ 7, N ≥ 5"


def test_tree_sync_registers_the_group_with_default_permissions(discord_api: DiscordStandIn) -> None:
    async def main() -> list[app_commands.AppCommand]:
        client, tree = build_bot([])
        async with logged_in(client):
            return await tree.sync()

    [synced] = asyncio.run(main())
    assert synced.name == "arxiv"
    [stored] = discord_api.commands()
    assert stored["default_member_permissions"] == str(MANAGE_GUILD)  # Discord hides it from other members
    assert [o["name"] for o in stored["options"]] == ["threshold", "criteria"]


def test_guild_command_needs_guild_id_in_the_payload(discord_api: DiscordStandIn) -> None:
    """Commands added with guild=... are looked up under data.guild_id; without it the tree says not found."""
    log: list[Any] = []

    async def main() -> None:
        client = discord.Client(intents=discord.Intents.default())
        tree = app_commands.CommandTree(client)

        @tree.command(name="ping", description="ping", guild=discord.Object(GUILD_ID))
        async def ping(interaction: discord.Interaction) -> None:
            log.append("ping")
            await interaction.response.send_message("pong")

        @tree.error
        async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            log.append(type(error))

        async with logged_in(client):
            await tree.sync(guild=discord.Object(GUILD_ID))
            gateway_dispatch(client, "INTERACTION_CREATE", command_interaction("ping", command_guild_id=GUILD_ID))
            gateway_dispatch(client, "INTERACTION_CREATE", command_interaction("ping"))
            await settle()

    asyncio.run(main())
    assert sorted(log, key=str) == sorted(["ping", app_commands.CommandNotFound], key=str)
    assert discord_api.commands(GUILD_ID)[0]["guild_id"] == str(GUILD_ID)


# e) permissions ---------------------------------------------------------------------------------------


def test_missing_manage_guild_reaches_tree_on_error(discord_api: DiscordStandIn) -> None:
    log: list[Any] = []

    async def main() -> None:
        client, _ = build_bot(log)
        async with logged_in(client):
            payload = command_interaction("arxiv", "threshold", options={"relevance": 7, "novelty": 5}, permissions=0)
            gateway_dispatch(client, "INTERACTION_CREATE", payload)
            await settle()

    asyncio.run(main())
    [error] = log  # the command body never ran
    assert isinstance(error, app_commands.MissingPermissions)
    assert error.missing_permissions == ["manage_guild"]
    [response] = discord_api.interaction_responses
    assert response["data"]["content"].startswith("Sorry: You are missing Manage Server permission")


def test_group_interaction_check_failing_is_a_check_failure(discord_api: DiscordStandIn) -> None:
    """A group-wide gate: subclass Group and override interaction_check; False becomes CheckFailure."""
    log: list[Any] = []

    class Admin(app_commands.Group, name="arxiv", description="admin"):
        async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
            return interaction.permissions.manage_guild

    async def main() -> None:
        client = discord.Client(intents=discord.Intents.default())
        tree = app_commands.CommandTree(client)
        admin = Admin()

        @admin.command(name="threshold", description="x")
        async def threshold(interaction: discord.Interaction, relevance: int) -> None:
            log.append(relevance)
            await interaction.response.send_message("ok")

        tree.add_command(admin)

        @tree.error
        async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            log.append(error)

        async with logged_in(client):
            for permissions in (0, MANAGE_GUILD):
                payload = command_interaction("arxiv", "threshold", options={"relevance": 3}, permissions=permissions)
                gateway_dispatch(client, "INTERACTION_CREATE", payload)
                await settle()

    asyncio.run(main())
    assert type(log[0]) is app_commands.CheckFailure
    assert log[1] == 3
    # on_error did not answer, so only the allowed call produced a callback (Discord would show "did not respond").
    assert len(discord_api.interaction_responses) == 1


# b) modal ---------------------------------------------------------------------------------------------


def test_modal_is_sent_then_its_submission_reaches_on_submit(discord_api: DiscordStandIn) -> None:
    log: list[Any] = []
    text = "Mixture of experts\n\nquantization, [not] *markdown*"

    async def main() -> None:
        client, _ = build_bot(log)
        async with logged_in(client):
            gateway_dispatch(client, "INTERACTION_CREATE", command_interaction("arxiv", "criteria"))
            await settle()
            modal = discord_api.interaction_responses[0]["data"]
            values = {modal["components"][0]["components"][0]["custom_id"]: text}
            gateway_dispatch(client, "INTERACTION_CREATE", modal_submit_interaction(modal["custom_id"], values))
            await settle()

    asyncio.run(main())
    assert log == [text]
    shown, saved = discord_api.interaction_responses
    assert shown["type"] == 9
    assert shown["data"]["title"] == "Edit criteria"
    assert shown["data"]["components"][0]["components"][0]["style"] == 2  # paragraph
    assert saved["type"] == 4 and saved["data"]["content"] == "Criteria saved."


def test_modal_submission_after_restart_is_dropped(discord_api: DiscordStandIn) -> None:
    """Modals live in the process's view store: a fresh client silently discards their submissions."""
    log: list[Any] = []

    async def main() -> None:
        client, _ = build_bot(log)
        async with logged_in(client):
            payload = modal_submit_interaction("arxiv:criteria", {"criteria": "x"})
            gateway_dispatch(client, "INTERACTION_CREATE", payload)
            await settle()

    asyncio.run(main())
    assert log == []
    assert discord_api.interaction_responses == []


# c) persistent dynamic button -------------------------------------------------------------------------


def test_dynamic_button_works_in_the_sending_process_and_after_restart(discord_api: DiscordStandIn) -> None:
    AbstractButton.pressed = []

    async def post() -> None:
        client, _ = build_bot([])
        async with logged_in(client):
            view = discord.ui.View(timeout=None)
            view.add_item(AbstractButton("2503.01234"))
            await client.get_partial_messageable(CHANNEL_ID).send("digest", view=view)
            [message] = discord_api.messages(CHANNEL_ID)
            gateway_dispatch(client, "INTERACTION_CREATE", component_interaction("arxiv:abstract:2503.01234", message))
            await settle()

    async def restart() -> None:
        client, _ = build_bot([])  # never sent the view; only add_dynamic_items
        async with logged_in(client):
            [message] = discord_api.messages(CHANNEL_ID)
            gateway_dispatch(client, "INTERACTION_CREATE", component_interaction("arxiv:abstract:2503.01234", message))
            await settle()

    asyncio.run(post())
    asyncio.run(restart())
    assert AbstractButton.pressed == ["2503.01234", "2503.01234"]  # once per press, not twice in the sender
    assert [r["data"]["content"] for r in discord_api.interaction_responses] == ["abstract of 2503.01234"] * 2


def test_dynamic_button_needs_the_message_components_in_the_payload(discord_api: DiscordStandIn) -> None:
    """discord.py rebuilds the view from interaction.message; a custom_id absent from it is silently ignored."""
    AbstractButton.pressed = []

    async def main() -> None:
        client, _ = build_bot([])
        async with logged_in(client):
            await client.get_partial_messageable(CHANNEL_ID).send("no buttons")
            [message] = discord_api.messages(CHANNEL_ID)
            gateway_dispatch(client, "INTERACTION_CREATE", component_interaction("arxiv:abstract:2503.01234", message))
            await settle()

    asyncio.run(main())
    assert AbstractButton.pressed == []


# d) reactions -----------------------------------------------------------------------------------------


def test_raw_reaction_add_and_remove(discord_api: DiscordStandIn) -> None:
    seen: list[discord.RawReactionActionEvent] = []

    async def main() -> None:
        client = discord.Client(intents=discord.Intents.default())

        @client.event
        async def on_raw_reaction_add(event: discord.RawReactionActionEvent) -> None:
            seen.append(event)

        @client.event
        async def on_raw_reaction_remove(event: discord.RawReactionActionEvent) -> None:
            seen.append(event)

        async with logged_in(client):
            message = await client.get_partial_messageable(CHANNEL_ID).send("react to me")
            gateway_dispatch(client, "MESSAGE_REACTION_ADD", reaction_event(message.id, "👍"))
            await settle()
            # Without GUILD_CREATE the guild is not cached, so the payload's member is dropped; seed it to keep it.
            state = client._connection
            state._add_guild(discord.Guild._create_unavailable(state=state, guild_id=GUILD_ID, data=None))
            gateway_dispatch(client, "MESSAGE_REACTION_ADD", reaction_event(message.id, "👎"))
            gateway_dispatch(client, "MESSAGE_REACTION_REMOVE", reaction_event(message.id, "👍", add=False))
            await settle()

    asyncio.run(main())
    added, added_cached, removed = sorted(seen, key=lambda e: (e.event_type, str(e.emoji) != "👍"))
    assert (added.event_type, str(added.emoji), added.user_id, added.member) == ("REACTION_ADD", "👍", USER_ID, None)
    assert added.message_author_id is not None and added.guild_id == GUILD_ID
    assert isinstance(added_cached.member, discord.Member) and added_cached.member.id == USER_ID
    assert (removed.event_type, str(removed.emoji), removed.user_id) == ("REACTION_REMOVE", "👍", USER_ID)


# defer / followup / edit: the long-running command shape ----------------------------------------------


def test_defer_then_followup_and_edit_original(discord_api: DiscordStandIn) -> None:
    async def main() -> None:
        client = discord.Client(intents=discord.Intents.default())
        tree = app_commands.CommandTree(client)

        @tree.command(name="digest", description="Run today's digest")
        async def digest(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.edit_original_response(content="Scored 120 papers.")
            await interaction.followup.send(embed=discord.Embed(title="Top paper"), ephemeral=True)

        async with logged_in(client):
            gateway_dispatch(client, "INTERACTION_CREATE", command_interaction("digest"))
            await settle()

    asyncio.run(main())
    [deferred] = discord_api.interaction_responses
    assert deferred["type"] == 5 and deferred["data"]["flags"] == 64
    original, followup = discord_api.followups
    assert original["kind"] == "original" and original["message"]["content"] == "Scored 120 papers."
    assert followup["kind"] == "create" and followup["message"]["embeds"][0]["title"] == "Top paper"
    assert discord_api.original(deferred["token"])["content"] == "Scored 120 papers."


def test_default_permissions_only_hide_the_command_and_errors_without_handler_are_logged(
    discord_api: DiscordStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """default_permissions is advice to Discord's UI (admins can re-grant it per role); only checks enforce.

    Without a tree.on_error override, a failed check is logged and the user gets no answer at all.
    """
    ran: list[int] = []

    async def main() -> None:
        client = discord.Client(intents=discord.Intents.default())
        tree = app_commands.CommandTree(client)
        arxiv = app_commands.Group(name="arxiv", description="d", default_permissions=discord.Permissions(32))

        @arxiv.command(name="threshold", description="x")
        async def threshold(interaction: discord.Interaction, relevance: int) -> None:
            ran.append(relevance)
            await interaction.response.send_message("ok")

        @arxiv.command(name="reset", description="x")
        @app_commands.checks.has_permissions(manage_guild=True)
        async def reset(interaction: discord.Interaction) -> None:
            ran.append(0)

        tree.add_command(arxiv)
        async with logged_in(client):
            payload = command_interaction("arxiv", "threshold", options={"relevance": 5}, permissions=0)
            gateway_dispatch(client, "INTERACTION_CREATE", payload)
            gateway_dispatch(client, "INTERACTION_CREATE", command_interaction("arxiv", "reset", permissions=0))
            await settle()

    asyncio.run(main())
    assert ran == [5]
    assert len(discord_api.interaction_responses) == 1
    assert any("Ignoring exception in command 'reset'" in r.getMessage() for r in caplog.records)
