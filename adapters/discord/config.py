"""Discord's settings from the environment (or ``.env``); the token is a SecretStr and never logged."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://discord.com/api/v10"  # what discord.py uses unless DISCORD_API_URL says otherwise


class DiscordSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DISCORD_", env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    token: SecretStr | None = None  # the bot token from the Developer Portal; Discord is off without it
    guild_id: int | None = None  # sync the commands to this one guild (instant) instead of globally
    admin_role: str | None = Field(
        default=None,
        # Shared wording with DIGEST_ADMINS, hence the DIGEST_ prefix instead of DISCORD_.
        validation_alias=AliasChoices("DIGEST_ADMIN_ROLE", "admin_role"),
        description="members with a role of this name may change the digest settings",
    )
    # Discord's REST base for the whole process. Tests and staging point it at a stand-in; leave it unset in
    # production. Only the REST calls move: discord.py connects a bot to its own default gateway.
    api_url: str | None = None
    # That gateway (wss://gateway.discord.gg/), for the same stand-ins; leave it unset in production.
    gateway_url: str | None = None
    post_interval: float = Field(default=1.0, ge=0, description="seconds between posts to one channel")

    def model_post_init(self, _context: object) -> None:
        if self.api_url is not None:
            self.api_url = self.api_url.rstrip("/")
        if self.admin_role is not None:
            self.admin_role = self.admin_role.strip().removeprefix("@") or None

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def problems(self) -> list[str]:
        """What stops Discord from starting, each with what to do."""
        if self.token is None:
            return []
        token = self.token.get_secret_value().strip()
        if not token:
            return ["DISCORD_TOKEN is empty: copy the bot token from the Developer Portal (Bot → Reset Token)."]
        if token.lower().startswith("bot "):
            return ["DISCORD_TOKEN must be the bare token, without the 'Bot ' prefix."]
        return []
