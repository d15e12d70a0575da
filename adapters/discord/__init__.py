"""Discord adapter: the bot (slash commands, buttons, the criteria editor, reactions), embeds, posting."""
