"""The environment variable names are a contract with operators and tests."""

from __future__ import annotations

from bot.domain.settings import Settings


def test_defaults_match_the_documented_contract():
    settings = Settings(_env_file=None)
    assert settings.categories == ["cs.LG", "cs.AI"]
    assert settings.model == "gpt-4o-mini"
    assert (settings.min_relevance, settings.min_novelty) == (7, 6)
    assert settings.max_cost_usd is None and not settings.has_llm
    assert settings.database_url.startswith("sqlite:///")
    assert settings.feed_url == "https://rss.arxiv.org/rss/cs.LG+cs.AI"
    assert settings.arxiv_api_url == "https://export.arxiv.org/api/query"
    assert settings.arxiv_api_delay == 3.0


def test_environment_variables_override_every_default(monkeypatch):
    env = {
        "DIGEST_CATEGORIES": "cs.CL, cs.CV",
        "DIGEST_MODEL": "gpt-4o",
        "DIGEST_MIN_RELEVANCE": "8",
        "DIGEST_MIN_NOVELTY": "7",
        "DIGEST_BATCH_SIZE": "40",
        "DIGEST_CONCURRENCY": "3",
        "DIGEST_MAX_COST_USD": "0.5",
        "DIGEST_PRICES": '{"my-model": [1, 0.5, 2]}',
        "OPENAI_API_KEY": "sk-abc",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "DATABASE_URL": "postgresql+psycopg://u@h/db",
        "ARXIV_RSS_URL": "http://127.0.0.1:9/rss",
        "ARXIV_API_URL": "http://127.0.0.1:9/api/query",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings(_env_file=None)
    assert s.categories == ["cs.CL", "cs.CV"] and s.model == "gpt-4o"
    assert (s.min_relevance, s.min_novelty, s.batch_size, s.concurrency, s.max_cost_usd) == (8, 7, 40, 3, 0.5)
    assert s.prices == {"my-model": (1.0, 0.5, 2.0)}
    assert s.has_llm and s.openai_base_url == "http://127.0.0.1:9/v1"
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.feed_url == "http://127.0.0.1:9/rss/cs.CL+cs.CV"
    assert s.arxiv_api_url == "http://127.0.0.1:9/api/query"


def test_a_dotenv_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DIGEST_MODEL=gpt-4.1-mini\nOPENAI_API_KEY=sk-from-dotenv\n")
    settings = Settings()
    assert settings.model == "gpt-4.1-mini" and settings.has_llm


def test_the_api_key_never_shows_in_repr_or_dumps(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    settings = Settings(_env_file=None)
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())
