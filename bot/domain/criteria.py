"""Rules for criteria text a team writes."""

from bot.domain.errors import CriteriaError


def validate_criteria(text: str, max_chars: int) -> str:
    """The cleaned text, or a CriteriaError that states the limit."""
    cleaned = text.strip()
    if not cleaned:
        raise CriteriaError("The criteria are empty. Write the topics you care about, one per line or paragraph.")
    if len(cleaned) > max_chars:
        raise CriteriaError(
            f"The criteria are {len(cleaned)} characters long; the limit is {max_chars} "
            "(DIGEST_MAX_CRITERIA_CHARS). Shorten them: every character is sent with every request."
        )
    return cleaned
