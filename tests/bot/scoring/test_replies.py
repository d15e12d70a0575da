from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scoring.replies import parse_reply

IDS = ["2503.00001", "2503.00002"]


def test_reads_json_lines():
    text = (
        '{"ARXIVID": "2503.00001", "COMMENT": "MoE", "RELEVANCE": 9, "NOVELTY": 7}\n'
        '{"ARXIVID": "2503.00002", "COMMENT": "", "RELEVANCE": 2, "NOVELTY": 3}'
    )
    found, notes = parse_reply(text, IDS)
    assert found["2503.00001"].relevance == 9 and found["2503.00001"].comment == "MoE"
    assert found["2503.00002"].novelty == 3
    assert notes == []


def test_reads_array_object_and_code_fences():
    array = '[{"ARXIVID": "2503.00001", "RELEVANCE": 5, "NOVELTY": 5, "COMMENT": ""}]'
    wrapped = '{"papers": [{"ARXIVID": "2503.00002", "RELEVANCE": 6, "NOVELTY": 4, "COMMENT": "x"}]}'
    fenced = "Here you go:\n```json\n" + array + "\n```\nHope this helps."
    assert set(parse_reply(array, IDS)[0]) == {"2503.00001"}
    assert set(parse_reply(wrapped, IDS)[0]) == {"2503.00002"}
    assert parse_reply(fenced, IDS)[0]["2503.00001"].relevance == 5


def test_prose_and_broken_json_give_nothing_and_no_exception():
    found, _ = parse_reply("Sure! {ARXIVID: 2503.00001, RELEVANCE: nine", IDS)
    assert found == {}


def test_invented_ids_are_ignored_with_a_note():
    text = '{"ARXIVID": "9999.99999", "RELEVANCE": 10, "NOVELTY": 10, "COMMENT": "made up"}'
    found, notes = parse_reply(text, IDS)
    assert found == {}
    assert "not in the request" in notes[0]


def test_scores_are_clamped_and_strings_accepted():
    text = (
        '{"ARXIVID": "2503.00001", "RELEVANCE": 14, "NOVELTY": 0, "COMMENT": ""}\n'
        '{"ARXIVID": "arXiv:2503.00002v2", "RELEVANCE": "8", "NOVELTY": "7/10", "COMMENT": ""}'
    )
    found, _ = parse_reply(text, IDS)
    assert (found["2503.00001"].relevance, found["2503.00001"].novelty) == (10, 1)
    assert (found["2503.00002"].relevance, found["2503.00002"].novelty) == (8, 7)


def test_non_numeric_scores_are_ignored():
    found, notes = parse_reply('{"ARXIVID": "2503.00001", "RELEVANCE": "high", "NOVELTY": 5}', IDS)
    assert found == {} and "numeric" in notes[0]


def test_first_judgment_of_a_paper_wins():
    text = (
        '{"ARXIVID": "2503.00001", "RELEVANCE": 3, "NOVELTY": 3}\n'
        '{"ARXIVID": "2503.00001", "RELEVANCE": 10, "NOVELTY": 10}'
    )
    assert parse_reply(text, IDS)[0]["2503.00001"].relevance == 3


def test_lowercase_keys_are_accepted():
    found, _ = parse_reply('{"arxivid": "2503.00001", "relevance": 7, "novelty": 6, "comment": "ok"}', IDS)
    assert found["2503.00001"].comment == "ok"


def test_reads_the_plain_lines_the_prompt_asks_for_with_a_comment_only_on_some():
    text = "2503.00001 9 8 Proposes a new MoE routing rule.\n2503.00002 3 4\n"
    found, notes = parse_reply(text, IDS)
    assert found["2503.00001"].relevance == 9 and found["2503.00001"].novelty == 8
    assert found["2503.00001"].comment == "Proposes a new MoE routing rule."
    assert found["2503.00002"].comment == "" and found["2503.00002"].novelty == 4
    assert notes == []


def test_plain_lines_tolerate_separators_versions_and_invented_ids():
    text = "- arXiv:2503.00001v2 | 12 | 0 | MoE\n9999.99999 5 5\nThe year 2024 was 10 10 good"
    found, notes = parse_reply(text, IDS)
    assert found["2503.00001"].relevance == 10 and found["2503.00001"].novelty == 1
    assert found["2503.00001"].comment == "MoE"
    assert set(found) == {"2503.00001"} and "not in the request" in notes[0]


def test_a_json_judgment_and_a_plain_line_for_the_same_paper_keep_the_first_form_read():
    text = '{"ARXIVID": "2503.00001", "COMMENT": "", "RELEVANCE": 2, "NOVELTY": 3}\n2503.00001 9 9 x'
    assert parse_reply(text, IDS)[0]["2503.00001"].relevance == 2


_LINEISH = st.lists(
    st.one_of(
        st.text(max_size=60),
        st.builds(lambda i, r, n, c: f"{i} {r} {n} {c}", st.sampled_from([*IDS, "2503.99999", "1234.5"]),
                  st.integers(-5, 120), st.integers(-5, 120), st.text(max_size=40)),
    ),
    max_size=12,
).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(_LINEISH)
def test_any_reply_gives_only_asked_ids_with_scores_in_range_and_never_raises(text):
    found, notes = parse_reply(text, IDS)
    assert set(found) <= set(IDS)
    assert all(1 <= j.relevance <= 10 and 1 <= j.novelty <= 10 and "\n" not in j.comment for j in found.values())
    assert all(isinstance(note, str) for note in notes)
