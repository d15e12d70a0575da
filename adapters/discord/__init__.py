"""Discord adapter: embeds, and (coming) the bot that posts digests and answers commands."""
