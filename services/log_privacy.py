"""No full ID number or mobile number in any log line (R-JUR-3): every record of every
logger — ours, uvicorn's access log with its query strings, SQLAlchemy's statement and row
echo, arq's job lines — is scrubbed as it is made, whatever handler later writes it.

It hooks the record factory rather than a handler, because the handlers belong to whoever
configures logging (uvicorn, arq, a deployment's dictConfig) and a filter on a logger does
not see what its children propagate."""

import logging
from typing import Any

from domain.masking import scrub_text

_FORMATTER = logging.Formatter()


class _ScrubbingFactory:
    def __init__(self, make: Any) -> None:
        self.make = make

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.make(*args, **kwargs)
        _scrub_message(record)
        if record.exc_info and record.exc_info[1] is not None:
            text = _FORMATTER.formatException(record.exc_info)
            clean = scrub_text(text)
            if clean != text:
                # Formatters print `exc_text` when it is set instead of formatting anew.
                record.exc_text = clean
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info)
        return record


def _scrub_message(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        return  # a malformed call: the handler reports it when it formats the record
    if scrub_text(message) == message:
        return
    # Arguments are scrubbed one by one where that suffices: some formatters read them
    # (uvicorn's access log unpacks its five), so they keep their shape.
    if isinstance(record.msg, str):
        record.msg = scrub_text(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_scrubbed(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _scrubbed(arg) for key, arg in record.args.items()}
    rendered = record.getMessage()
    if scrub_text(rendered) != rendered:
        # The number sits inside an argument that is not a string (a dict, an exception).
        record.msg, record.args = scrub_text(message), ()


def _scrubbed(arg: object) -> object:
    return scrub_text(arg) if isinstance(arg, str) else arg


def install() -> None:
    """Scrub every log record made from now on in this process (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _ScrubbingFactory):
        logging.setLogRecordFactory(_ScrubbingFactory(current))
