"""The class poll on the store: codes, one changeable vote per voter, counts, reveal, rounds,
expiry after a day, and bounds (a flood of class codes or voters cannot grow the store)."""

from __future__ import annotations

import random
import string

import pytest

from ui import poll
from ui.serving.store import DAY, InProcessStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def backend(clock):
    return InProcessStore(max_keys=1_000, max_fields=100, clock=clock)


CHOICES = ("smaller", "same", "larger")


def test_a_new_code_is_short_random_and_well_formed():
    codes = {poll.new_code() for _ in range(200)}
    assert len(codes) == 200  # 31⁶ codes: 200 draws do not repeat
    for code in codes:
        assert len(code) == poll.CODE_LENGTH and poll.parse_code(code) == code
        assert set(code) <= set(poll.CODE_ALPHABET) and not set(code) & set("0o1li")


@pytest.mark.parametrize("text,code", [("abcd", "abcd"), ("AbCd23", "abcd23"),
                                       (" k7m2pq ", "k7m2pq"), ("a" * 12, "a" * 12)])
def test_well_formed_codes_are_read(text, code):
    assert poll.parse_code(text) == code


@pytest.mark.parametrize("text", ["", "abc", "a" * 13, "ab-cd", "<b>x</b>", "abc def", "ümlaut",
                                  "ab%20cd", "abcd\x00"])
def test_malformed_codes_are_refused_with_what_is_valid(text):
    with pytest.raises(ValueError, match="4 to 12 letters or digits"):
        poll.parse_code(text)


def test_votes_are_counted_per_lesson_one_per_voter_and_changeable(backend):
    voters = [poll.new_voter() for _ in range(5)]
    for voter, choice in zip(voters, ["same", "same", "larger", "smaller", "same"]):
        poll.vote("abcd23", "tanh_small", voter, choice, backend)
    poll.vote("abcd23", "tanh_large", voters[0], "larger", backend)
    assert poll.tally("abcd23", "tanh_small", CHOICES, backend) == {
        "smaller": 1, "same": 3, "larger": 1}
    poll.vote("abcd23", "tanh_small", voters[0], "smaller", backend)  # changes their mind
    assert poll.tally("abcd23", "tanh_small", CHOICES, backend) == {
        "smaller": 2, "same": 2, "larger": 1}
    assert poll.my_vote("abcd23", "tanh_small", voters[0], backend) == "smaller"
    assert poll.tally("abcd23", "tanh_large", CHOICES, backend)["larger"] == 1
    assert poll.tally("zzzz99", "tanh_small", CHOICES, backend) == dict.fromkeys(CHOICES, 0)


def test_a_value_that_is_not_a_choice_is_not_counted(backend):
    poll.vote("abcd23", "tanh_small", poll.new_voter(), "other", backend)
    assert sum(poll.tally("abcd23", "tanh_small", CHOICES, backend).values()) == 0


@pytest.mark.parametrize("code,lesson,voter,choice", [
    ("ab", "tanh_small", "v" * 16, "same"), ("abcd23", "tanh small", "v" * 16, "same"),
    ("abcd23", "x" * 41, "v" * 16, "same"), ("abcd23", "tanh_small", "short", "same"),
    ("abcd23", "tanh_small", "v" * 16, "<script>"), ("abcd23", "tanh_small", "v" * 16, "")])
def test_nothing_outside_the_alphabets_reaches_the_store(backend, code, lesson, voter, choice):
    with pytest.raises(poll.BadPollValue):
        poll.vote(code, lesson, voter, choice, backend)
    assert len(backend) == 0


def test_reveal_and_a_new_round(backend):
    voter = poll.new_voter()
    poll.vote("abcd23", "relu_he", voter, "flat", backend)
    assert poll.status("abcd23", "relu_he", backend) == (False, 0)
    poll.reveal("abcd23", "relu_he", backend)
    assert poll.status("abcd23", "relu_he", backend) == (True, 0)
    assert not poll.revealed("abcd23", "relu_xavier", backend)
    poll.reset("abcd23", "relu_he", backend)
    assert poll.status("abcd23", "relu_he", backend) == (False, 1)
    assert poll.votes("abcd23", "relu_he", backend) == {}
    poll.reset("abcd23", "relu_he", backend)
    assert poll.voting_round("abcd23", "relu_he", backend) == 2


def test_an_unreadable_round_in_the_store_reads_as_zero(backend):
    backend.set("vl:round:abcd23:relu_he", b"\xff\xfe", DAY)
    assert poll.voting_round("abcd23", "relu_he", backend) == 0
    backend.set("vl:round:abcd23:relu_he", b"9" * 40, DAY)
    assert poll.voting_round("abcd23", "relu_he", backend) == 0


def test_a_class_is_created_on_first_use_and_kept(backend):
    assert poll.open_class("k7m2pq", backend) is True
    assert poll.open_class("k7m2pq", backend) is False


def test_votes_expire_a_day_after_the_last_write(backend, clock):
    voter = poll.new_voter()
    poll.vote("abcd23", "sigmoid", voter, "smaller", backend)
    poll.reveal("abcd23", "sigmoid", backend)
    clock.now += DAY - 60
    poll.vote("abcd23", "sigmoid", poll.new_voter(), "same", backend)  # renews the votes
    clock.now += 120
    assert sum(poll.tally("abcd23", "sigmoid", CHOICES, backend).values()) == 2
    assert not poll.revealed("abcd23", "sigmoid", backend)  # the reveal was a day ago
    clock.now += DAY
    assert poll.votes("abcd23", "sigmoid", backend) == {}


def test_ten_thousand_random_class_codes_do_not_grow_the_store_past_its_bound(clock):
    backend = InProcessStore(max_keys=500, max_fields=100, clock=clock)
    rng = random.Random(0)
    alphabet = string.ascii_lowercase + string.digits
    for _ in range(10_000):
        code = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 12)))
        poll.open_class(code, backend)
        poll.vote(code, "tanh_small", poll.new_voter(), "same", backend)
        poll.reveal(code, "tanh_small", backend)
        assert len(backend) <= 500
    assert len(backend) == 500
    # The newest classes are still there: least recently used keys went first.
    assert poll.tally(code, "tanh_small", CHOICES, backend)["same"] == 1


def test_the_process_store_bounds_keys_and_voters_per_poll():
    from ui.serving.store import store

    shared = store()
    assert isinstance(shared, InProcessStore)
    assert shared.max_keys <= 10_000 and shared.max_fields <= 1_000


def test_a_flood_of_voters_cannot_grow_one_poll(backend):
    for _ in range(500):
        poll.vote("abcd23", "tanh_small", poll.new_voter(), "same", backend)
    assert len(poll.votes("abcd23", "tanh_small", backend)) == 100


def test_share_of_each_choice():
    assert poll.share({"a": 1, "b": 3}) == {"a": 0.25, "b": 0.75}
    assert poll.share({"a": 0, "b": 0}) == {"a": 0.0, "b": 0.0}


# -- one voter per browser ----------------------------------------------------------------------

def test_a_browsers_tabs_are_one_voter_and_two_browsers_two():
    # Streamlit's own cookie maker (the reference): a fresh mask at every page load.
    from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

    token, other = bytes(range(16)), bytes(range(1, 17))
    tabs = {generate_xsrf_token_string(token, 1_700_000_000 + i) for i in range(5)}
    assert len(tabs) == 5  # five different cookies (masks), one browser
    voters = {poll.browser_voter(cookie) for cookie in tabs}
    assert len(voters) == 1 and None not in voters
    voter = voters.pop()
    assert poll.browser_voter(generate_xsrf_token_string(other)) != voter
    assert token.hex() not in voter and poll._VOTER.fullmatch(voter)
    poll.vote("abcd23", "relu_he", voter, "flat", backend := InProcessStore())
    poll.vote("abcd23", "relu_he", poll.browser_voter(tabs.pop()), "half", backend)
    assert poll.tally("abcd23", "relu_he", ("flat", "half"), backend) == {"flat": 0, "half": 1}


@pytest.mark.parametrize("cookie", [None, "", "1|abc", "2|zz|00|1", "2|0011|2233|1",
                                    "2|00112233|" + "ab" * 100 + "|1", "2|a|b|c|d"])
def test_a_missing_or_unreadable_cookie_gives_no_browser_voter(cookie):
    assert poll.browser_voter(cookie) is None
