"""The live class poll, on the shared store (ui.store): each student's answer to a lesson's
question, counted for the teacher's screen, and the teacher's "Reveal".

A class is a short random code (``class=`` in the teacher's link, made by the share box: no
personal data). A well-formed code that nobody used yet is created on first use; a malformed one
is refused by ``parse_code`` (the link codec reports it and ignores it). Keys, all with a
one-day expiry that each write renews (a class's votes expire a day after its last vote):

- ``vl:poll:<code>:<lesson>`` — a hash voter → choice (one answer per voter, changeable);
- ``vl:reveal:<code>:<lesson>`` — present once the teacher revealed the lesson's answer;
- ``vl:round:<code>:<lesson>`` — how many times the teacher cleared the lesson's votes ("vote
  again"): a new round gives every student a fresh, empty choice;
- ``vl:class:<code>`` — when the class was first used (for the teacher's screen).

Everything stored is checked first: codes, lessons, voters and choices are short strings of a
small alphabet, so a link cannot put arbitrary text into the store, and the store itself bounds
the number of keys and of voters per poll (10,000 random codes do not grow it past its bound).
Pure Python: no Streamlit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Mapping, Sequence

from ui.serving.store import DAY, Store, store

#: Letters and digits that cannot be mistaken for each other when read off a projector (no 0/o,
#: 1/l/i).
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 6
#: What a link may carry: 4–12 letters or digits, any case (read as lower case).
_CODE = re.compile(r"[a-z0-9]{4,12}")
_NAME = re.compile(r"[a-z0-9_.]{1,40}")
_VOTER = re.compile(r"[A-Za-z0-9_-]{8,40}")
TTL = DAY


class BadPollValue(ValueError):
    """A code, lesson, voter or choice that is not of the poll's alphabet."""


def new_code() -> str:
    """A fresh class code: 6 characters of CODE_ALPHABET (31⁶ ≈ 9·10⁸ codes)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def parse_code(text: str) -> str:
    """A class code from a link (lower-cased), or ValueError naming what is valid."""
    code = text.strip().lower()
    if not _CODE.fullmatch(code):
        raise ValueError("4 to 12 letters or digits")
    return code


def new_voter() -> str:
    """A voter id for one browser session: random, unrelated to the person."""
    return secrets.token_urlsafe(12)


#: Streamlit's XSRF cookie: one random token per browser, kept by the server across page loads.
XSRF_COOKIE = "_streamlit_xsrf"


def browser_voter(xsrf_cookie: str | None) -> str | None:
    """A voter id for one browser, the same in all its tabs (a student answers once, however
    many tabs they open), or None when the cookie is absent or unreadable.

    Streamlit's XSRF cookie is "2|mask|masked token|timestamp" (hex): the mask changes at every
    page load, the token (token = masked XOR mask, the mask repeated) does not. The id is a hash
    of the token, so the stored id reveals nothing of it and nothing of the person."""
    if not xsrf_cookie:
        return None
    parts = xsrf_cookie.strip("\"'").split("|")
    if len(parts) != 4 or parts[0] != "2":
        return None
    try:
        mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError:
        return None
    if len(mask) != 4 or not 8 <= len(masked) <= 64:
        return None
    token = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))
    return "b" + hashlib.sha256(b"variance-lab voter|" + token).hexdigest()[:23]


def _backend(backend: Store | None) -> Store:
    # Not ``backend or store()``: an empty store has len() 0 and is falsy.
    return store() if backend is None else backend


def _check(pattern: re.Pattern, value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BadPollValue(f"not a valid {what}: {str(value)[:40]!r}")
    return value


def _key(kind: str, code: str, lesson: str | None = None) -> str:
    _check(_CODE, code, "class code")
    if lesson is None:
        return f"vl:{kind}:{code}"
    return f"vl:{kind}:{code}:{_check(_NAME, lesson, 'lesson')}"


def open_class(code: str, backend: Store | None = None) -> bool:
    """Record the class's first use (True if this call created it); a code in use stays."""
    backend = _backend(backend)
    return backend.add(_key("class", code), str(time.time()).encode(), TTL)


def vote(code: str, lesson: str, voter: str, choice: str, backend: Store | None = None) -> None:
    """``voter``'s answer to ``lesson`` in class ``code`` (replacing their earlier one)."""
    backend = _backend(backend)
    backend.hset(_key("poll", code, lesson), _check(_VOTER, voter, "voter"),
                 _check(_NAME, choice, "choice"), TTL)


def votes(code: str, lesson: str, backend: Store | None = None) -> dict[str, str]:
    """voter → choice for the lesson (empty if nobody answered, or the votes expired)."""
    return _backend(backend).hgetall(_key("poll", code, lesson))


def tally(code: str, lesson: str, choices: Sequence[str],
          backend: Store | None = None) -> dict[str, int]:
    """How many voters chose each of ``choices`` (in their order; any other value read from
    the store is not counted: the store is input too)."""
    counts = dict.fromkeys(choices, 0)
    for choice in votes(code, lesson, backend).values():
        if choice in counts:
            counts[choice] += 1
    return counts


def my_vote(code: str, lesson: str, voter: str, backend: Store | None = None) -> str | None:
    return votes(code, lesson, backend).get(voter)


def reveal(code: str, lesson: str, backend: Store | None = None) -> None:
    _backend(backend).set(_key("reveal", code, lesson), b"1", TTL)


def revealed(code: str, lesson: str, backend: Store | None = None) -> bool:
    return _backend(backend).get(_key("reveal", code, lesson)) is not None


def voting_round(code: str, lesson: str, backend: Store | None = None) -> int:
    """0 until the teacher first clears the votes, then 1, 2, … (an unreadable value is 0)."""
    raw = _backend(backend).get(_key("round", code, lesson))
    try:
        return max(0, int(raw.decode("ascii"))) if raw is not None and len(raw) <= 12 else 0
    except (UnicodeDecodeError, ValueError):
        return 0


def status(code: str, lesson: str, backend: Store | None = None) -> tuple[bool, int]:
    """(revealed, round): what a screen redraws itself for when it changes."""
    return revealed(code, lesson, backend), voting_round(code, lesson, backend)


def reset(code: str, lesson: str, backend: Store | None = None) -> None:
    """Clear the lesson's votes, hide its answer again and start a new round (the class
    answers a second time, after a discussion)."""
    backend = _backend(backend)
    next_round = voting_round(code, lesson, backend) + 1
    backend.delete(_key("poll", code, lesson))
    backend.delete(_key("reveal", code, lesson))
    backend.set(_key("round", code, lesson), str(next_round).encode("ascii"), TTL)


def share(counts: Mapping[str, int]) -> dict[str, float]:
    """Each choice's fraction of the answers (0 everywhere when nobody answered)."""
    total = sum(counts.values())
    return {choice: (count / total if total else 0.0) for choice, count in counts.items()}
