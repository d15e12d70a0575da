"""/arxiv language: anyone reads it, admins change it, a typo changes nothing; the next digest's TL;DRs follow it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat.commands import CommandCore
from tests.support.fakes import caller, say

ADMIN = caller("U1", admin=True)


def language_of(core: CommandCore) -> str:
    sub = core.store.get_subscription("chat", "C1")
    assert sub is not None
    return core.store.profile_by_id(sub.profile_id).language


def test_the_language_is_english_until_an_admin_changes_it(core):
    say(core, "subscribe")
    assert say(core, "language", caller("U2")).text == (
        "TL;DRs and comments are written in English; abstracts stay as arXiv has them. "
        "Change with `/arxiv language <code>`, e.g. `/arxiv language de` or `/arxiv language ja`."
    )
    reply = say(core, "language de", ADMIN)
    assert reply.public and reply.text == (
        "@U1 set the language to German (Deutsch) (was English): TL;DRs and comments from the next digest on are "
        "written in it; abstracts stay as arXiv has them."
    )
    assert language_of(core) == "de"
    assert say(core, "language Japanese", ADMIN).public and language_of(core) == "ja"
    assert say(core, "language ja", ADMIN).text == "TL;DRs and comments are already written in Japanese (日本語)."
    assert "Japanese (日本語)" in say(core, "language").text


def test_a_member_may_read_but_not_change_it(core):
    say(core, "subscribe")
    reply = say(core, "language de", caller("U2"))
    assert "Only workspace admins" in reply.text and not reply.public and language_of(core) == "en"


def test_what_is_no_language_is_refused_and_changes_nothing(core):
    say(core, "subscribe")
    reply = say(core, "language xx", ADMIN)
    assert reply.text == ("That is not a language code or name we know; try a code such as de, zh or ja. "
                          "Nothing was changed.")
    assert not reply.public and language_of(core) == "en"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_any_argument_is_answered_in_words_and_loses_nothing(core, text):
    say(core, "subscribe")
    say(core, "language fr", ADMIN)
    reply = say(core, f"language {text}", ADMIN)
    assert "Traceback" not in reply.text and "Error" not in reply.text
    if not reply.public:
        assert language_of(core) == "fr"


def test_the_next_digest_writes_its_tldrs_in_the_new_language(core, fake_llm):
    say(core, "subscribe")
    say(core, "language zh", ADMIN)
    say(core, "run", ADMIN)
    assert fake_llm.tldr_requests and all("in Chinese" in s for s in fake_llm.systems if '"TLDR"' in s)
