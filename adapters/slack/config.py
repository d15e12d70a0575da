"""Slack's settings: tokens and secrets from the environment (or ``.env``), never logged."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_API_URL = "https://slack.com/api/"
BOT_SCOPES = [
    "commands", "chat:write", "chat:write.public", "reactions:read", "channels:read", "groups:read",
    "users:read", "channels:history", "groups:history", "im:write", "files:write", "app_mentions:read",
]


def _split(value: object) -> list[str]:
    """A list given as "a,b c" in the environment, or already as a list."""
    if isinstance(value, str):
        return value.replace(",", " ").split()
    return [str(item) for item in value] if isinstance(value, list | tuple) else []


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLACK_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None  # xapp-…: Socket Mode
    signing_secret: SecretStr | None = None  # HTTP mode
    api_url: str = DEFAULT_API_URL
    client_id: str | None = None  # with the secret: multi-workspace OAuth install (HTTP mode)
    client_secret: SecretStr | None = None
    scopes: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(BOT_SCOPES))
    post_interval: float = Field(default=1.0, ge=0, description="seconds between posts to one channel")
    port: int = Field(default=3000, validation_alias=AliasChoices("PORT", "port"))

    def model_post_init(self, _context: object) -> None:
        self.scopes = _split(self.scopes)
        if not self.api_url.endswith("/"):
            self.api_url += "/"

    @property
    def mode(self) -> str | None:
        """``socket`` with an app token, ``http`` with a signing secret, else None (Slack is off)."""
        if self.app_token is not None:
            return "socket"
        if self.signing_secret is not None:
            return "http"
        return None

    @property
    def oauth(self) -> bool:
        return self.client_id is not None and self.client_secret is not None

    def problems(self) -> list[str]:
        """What stops Slack from starting, each with what to do."""
        if self.mode is None:
            return []
        found = []
        if self.mode == "socket" and self.bot_token is None:
            found.append("Socket Mode needs SLACK_BOT_TOKEN (xoxb-…) besides SLACK_APP_TOKEN.")
        if self.mode == "http" and self.bot_token is None and not self.oauth:
            found.append(
                "HTTP mode needs SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for workspace installs."
            )
        if self.app_token is not None and not self.app_token.get_secret_value().startswith("xapp-"):
            found.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
        return found
