"""manifest.yml, which users paste into Slack, matches what the app needs and listens to."""

from __future__ import annotations

from pathlib import Path

import yaml

from adapters.slack.config import BOT_SCOPES
from adapters.slack.runner import EVENTS_PATH

MANIFEST = Path(__file__).resolve().parents[3] / "manifest.yml"


def test_manifest_declares_the_command_scopes_events_and_socket_mode():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/arxiv"]
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    settings = manifest["settings"]
    events = sorted(settings["event_subscriptions"]["bot_events"])
    assert events == ["app_mention", "reaction_added", "reaction_removed"]
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    assert EVENTS_PATH in MANIFEST.read_text(encoding="utf-8")  # the HTTP-mode URLs it explains


def test_the_mention_event_comes_with_its_scope_in_the_manifest_and_the_install_scopes():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert "app_mention" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert "app_mentions:read" in manifest["oauth_config"]["scopes"]["bot"] and "app_mentions:read" in BOT_SCOPES
