"""Scoring papers: the prompt, the LLM (live and through the Batch API), the local scorer, the ranking rule.

Imports bot.domain only.
"""
