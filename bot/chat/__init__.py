"""The chat core: every ``/arxiv`` command, its wording and permissions, for all platforms at once.

Imports the layers below it; the platforms (adapters/) call it, it never calls them.
"""
