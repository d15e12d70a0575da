"""Multi-workspace installs: bolt's SQLAlchemy installation and OAuth state stores in our database."""

from __future__ import annotations

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.slack.config import SlackSettings

STATE_SECONDS = 600  # an install link is good for ten minutes


def async_engine(database_url: str) -> AsyncEngine:
    """The same database through an asyncio driver: aiosqlite for SQLite, psycopg's async mode for PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    elif url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_async_engine(url)


async def oauth_settings(settings: SlackSettings, database_url: str) -> AsyncOAuthSettings:
    """OAuth settings whose installs and states live in DATABASE_URL (tables created if missing)."""
    assert settings.client_id is not None and settings.client_secret is not None
    engine = async_engine(database_url)
    installs = AsyncSQLAlchemyInstallationStore(client_id=settings.client_id, engine=engine)
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
    await installs.create_tables()
    await states.create_tables()
    return AsyncOAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret.get_secret_value(),
        scopes=settings.scopes,
        installation_store=installs,
        state_store=states,
    )
