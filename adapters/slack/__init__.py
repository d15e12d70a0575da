"""Slack adapter: Block Kit rendering and the bolt app wiring."""
