"""Log records are scrubbed as they are made (services.log_privacy, R-JUR-3): messages,
arguments, exceptions and stacks, whoever formats them afterwards."""

import logging
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from services import log_privacy
from tests.pii import leaks
from tests.routes.people import resident_id

PHONE = "13812345678"


@pytest.fixture
def scrubbed() -> Iterator[logging.Logger]:
    """A logger of the test's, with the process's record factory restored afterwards."""
    before = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    log_privacy.install()
    log_privacy.install()  # idempotent: one wrapper, not two
    try:
        yield logging.getLogger("grid.test.privacy")
    finally:
        logging.setLogRecordFactory(before)


def made(logger: logging.Logger, *args: object, **kwargs: object) -> logging.LogRecord:
    return logger.makeRecord(logger.name, logging.INFO, __file__, 1, *args, **kwargs)  # type: ignore[arg-type]


def test_messages_and_arguments_are_scrubbed(scrubbed: logging.Logger) -> None:
    number = resident_id()
    plain = made(scrubbed, f"person {number} phone {PHONE}", (), None)
    assert leaks(plain.getMessage()) == []
    assert "138****5678" in plain.getMessage()
    formatted = made(scrubbed, "person %s phone %s", (number, PHONE), None)
    assert leaks(formatted.getMessage()) == []
    # Mapping arguments keep their shape, their texts masked.
    named = made(scrubbed, "sms to %(phone)s", ({"phone": PHONE},), None)
    assert named.getMessage() == "sms to 138****5678" and named.args == {"phone": "138****5678"}
    # An argument that is not text (a payload) flattens the message, masked.
    payload = made(scrubbed, "sms %s", ([PHONE, "通知"],), None)
    assert payload.getMessage() == "sms ['138****5678', '通知']"
    assert payload.args == ()
    # Nothing to mask: the record is left exactly as it was made.
    clean = made(scrubbed, "took %d ms", (12,), None)
    assert (clean.msg, clean.args) == ("took %d ms", (12,))


def test_uvicorns_access_log_keeps_its_five_arguments(scrubbed: logging.Logger) -> None:
    """uvicorn's formatter unpacks the record's arguments; the query string is masked in
    place."""
    record = made(
        scrubbed,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/api/v1/people?q={resident_id()}", "1.1", 200),
        None,
    )
    line = AccessFormatter(use_colors=False).format(record)
    assert "GET /api/v1/people?q=653101********" in line and leaks(line) == []


def test_exceptions_and_stacks_are_scrubbed(
    scrubbed: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    number = resident_id()
    try:
        raise ValueError(f"Key (id_number)=({number}) already exists")
    except ValueError:
        scrubbed.exception("unhandled error", stack_info=True)
    [record] = [r for r in caplog.records if r.name == scrubbed.name]
    assert record.exc_text is not None and "already exists" in record.exc_text
    assert leaks(caplog.text) == []


def test_a_malformed_call_is_left_to_the_handler(scrubbed: logging.Logger) -> None:
    record = made(scrubbed, "%s and %s", (PHONE,), None)
    with pytest.raises(TypeError):
        record.getMessage()
