"""Prompt text shipped as package data.

The four seed files (base prompt, topics, scoring rubric, instructions) are the default profile; the
topics file is the part a team edits as its "criteria". ``output_rules.txt`` holds our additions to
the seed's instructions: short comments and a guard against instructions hidden in abstracts.
"""

from functools import cache
from importlib.resources import files


@cache
def load(name: str) -> str:
    """Return the text of ``prompts/<name>.txt`` without trailing whitespace."""
    return files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8").rstrip()


def default_criteria() -> str:
    return load("paper_topics")
