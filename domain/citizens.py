"""Citizens and the hotline (社情民意 / 百姓互动, R-CIT-1): receipt codes, what a citizen is
shown of an event's progress, and the nature of a hotline call. Pure."""

import hashlib
import re
import secrets
from enum import StrEnum

from domain.errors import FieldError, Invalid
from domain.workflow import State

# Crockford's base32: no I, L, O, U — a code read out over the phone is not misheard.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_GROUP = 5
_CODE = re.compile(rf"^[{_ALPHABET}]{{{_GROUP}}}-?[{_ALPHABET}]{{{_GROUP}}}$")
# Read back in the forms people type it: lower case, I/L as 1, O as 0.
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


class SubmissionKind(StrEnum):
    PROBLEM = "problem"  # 问题反映
    SUGGESTION = "suggestion"  # 意见建议


class Channel(StrEnum):
    """How the citizen reached us: the web form or a message channel (WeChat, SMS …)."""

    WEB = "web"
    MESSAGE = "message"


class CallNature(StrEnum):
    NUISANCE = "nuisance"  # 骚扰电话: recorded, nothing else
    CALLBACK = "callback"  # 需回访
    NO_CALLBACK = "no_callback"  # 无需回访


class Progress(StrEnum):
    """What a citizen sees of the workflow (no unit-internal states)."""

    RECEIVED = "received"  # 已受理
    HANDLING = "handling"  # 办理中
    ANSWERED = "answered"  # 已办理，待回访
    CLOSED = "closed"  # 已办结


PROGRESS_NAMES = {
    Progress.RECEIVED: "已受理",
    Progress.HANDLING: "办理中",
    Progress.ANSWERED: "已办理，待回访",
    Progress.CLOSED: "已办结",
}
_PROGRESS = {
    State.DISPATCH: Progress.RECEIVED,
    State.PENDING_ACCEPT: Progress.RECEIVED,
    State.HANDLING: Progress.HANDLING,
    State.PENDING_VERIFY: Progress.ANSWERED,
    State.CLOSED: Progress.CLOSED,
}


def progress_of(state: State) -> Progress:
    return _PROGRESS[state]


def new_receipt() -> str:
    """A receipt code like `7K2QD-MX9TB`: 50 random bits, enough that guessing one is
    hopeless at the public endpoints' rate limit."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(2 * _GROUP))
    return f"{raw[:_GROUP]}-{raw[_GROUP:]}"


def normalise_receipt(code: str) -> str:
    """The canonical form of a typed receipt code; 422 `receipt_invalid` when it cannot be
    one."""
    cleaned = code.strip().upper().replace(" ", "").translate(_READ_AS)
    if not _CODE.match(cleaned):
        raise Invalid("receipt_invalid", errors=[FieldError("receipt", "receipt_invalid")])
    compact = cleaned.replace("-", "")
    return f"{compact[:_GROUP]}-{compact[_GROUP:]}"


def receipt_digest(code: str) -> str:
    """What is stored: the SHA-256 of the canonical code (a leaked table reveals no code)."""
    return hashlib.sha256(normalise_receipt(code).encode()).hexdigest()
