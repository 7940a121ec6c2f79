"""What a leak of personal numbers looks like (R-JUR-3), for the sweeps that look for one: a
valid full resident ID (18 characters, right check character and birth date, as python-stdnum
judges it — not the product's own code) or a full mainland mobile number."""

import io
import re
import zipfile

from stdnum.cn import ric

ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# Record ids are random UUIDs whose hex groups can hold eleven digits that look like a phone.
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def leaks(text: str) -> list[str]:
    """The full ID and mobile numbers in `text`."""
    text = UUID.sub("<uuid>", text)
    found = [m for m in ID_NUMBER.findall(text) if ric.is_valid(m.upper())]
    return found + MOBILE.findall(text)


def exported_text(body: bytes, fmt: str) -> str:
    """An export's text: the CSV itself, or every XML part of the XLSX package."""
    if fmt == "csv" or not body.startswith(b"PK"):
        return body.decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        return "".join(book.read(name).decode() for name in book.namelist())
