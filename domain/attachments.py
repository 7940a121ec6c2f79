"""Event attachments (R-EVT-1, R-MOB-1): the file types accepted, what kind each is, its size
limit, how a client's label is held against what the content really is, and the byte ranges
of a resumable upload. Pure rules: the content itself is sniffed and re-encoded by the
service."""

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from urllib.parse import quote

from domain.errors import BadRequest, Conflict, FieldError, Invalid, TooLarge

MIB = 1024 * 1024


class Kind(StrEnum):
    PHOTO = "photo"
    AUDIO = "audio"
    VIDEO = "video"
    DOC = "doc"


class UploadState(StrEnum):
    RECEIVING = "receiving"  # chunks arriving
    READY = "ready"  # checked and stored, waiting to be attached
    ATTACHED = "attached"  # attached to an event (once)


@dataclass(frozen=True)
class FileType:
    """One accepted type: its kind, the MIME type it is stored and served as, the file name
    extensions it goes by and the other labels clients put on it."""

    kind: Kind
    mime: str
    extensions: frozenset[str]
    aliases: frozenset[str] = frozenset()

    def labelled_as(self, mime: str) -> bool:
        return mime == self.mime or mime in self.aliases


def _type(kind: Kind, mime: str, extensions: str, aliases: str = "") -> FileType:
    return FileType(kind, mime, frozenset(extensions.split()), frozenset(aliases.split()))


# Photos are decoded and re-encoded, so only formats the encoder writes back are taken.
TYPES: tuple[FileType, ...] = (
    _type(Kind.PHOTO, "image/jpeg", ".jpg .jpeg .jpe .jfif", "image/jpg image/pjpeg"),
    _type(Kind.PHOTO, "image/png", ".png"),
    _type(Kind.PHOTO, "image/webp", ".webp"),
    _type(Kind.AUDIO, "audio/mpeg", ".mp3", "audio/mp3"),
    _type(Kind.AUDIO, "audio/mp4", ".m4a .f4a", "audio/x-m4a audio/aac audio/m4a"),
    _type(Kind.AUDIO, "audio/amr", ".amr"),
    _type(Kind.AUDIO, "audio/wav", ".wav", "audio/x-wav audio/wave audio/vnd.wave"),
    _type(Kind.AUDIO, "audio/ogg", ".ogg .oga .opus", "audio/opus"),
    _type(Kind.VIDEO, "video/mp4", ".mp4 .m4v"),
    _type(Kind.VIDEO, "video/3gpp", ".3gp .3ga .3g2", "video/3gpp2"),
    _type(Kind.VIDEO, "video/quicktime", ".mov .qt"),
    _type(Kind.VIDEO, "video/webm", ".webm"),
    _type(Kind.DOC, "application/pdf", ".pdf"),
)
BY_EXTENSION: dict[str, FileType] = {ext: t for t in TYPES for ext in t.extensions}
# A label that claims nothing: the content decides alone.
UNLABELLED = frozenset({"", "application/octet-stream", "binary/octet-stream"})

# The largest file of each kind, after the type is known from the content.
LIMITS: dict[Kind, int] = {
    Kind.PHOTO: 20 * MIB,
    Kind.AUDIO: 50 * MIB,
    Kind.VIDEO: 200 * MIB,
    Kind.DOC: 20 * MIB,
}
MAX_SIZE = max(LIMITS.values())
# A one-request (multipart) upload; larger files go through a resumable session.
SIMPLE_MAX = 10 * MIB
CHUNK_MAX = 8 * MIB
# Decoding a photo larger than this is refused (a decompression bomb is not a photo).
MAX_PIXELS = 60_000_000

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def _mime(label: str | None) -> str:
    return (label or "").split(";", 1)[0].strip().lower()


def declared_type(label: str | None, filename: str) -> FileType | None:
    """The type the client claims by MIME label or, failing that, by file name."""
    mime = _mime(label)
    if mime not in UNLABELLED:
        return next((t for t in TYPES if t.labelled_as(mime)), None)
    return BY_EXTENSION.get(PurePosixPath(filename.lower()).suffix)


def check_declared(label: str | None, filename: str, size: int) -> None:
    """Before any byte arrives: a label naming a type we do not take is refused, and so is a
    size over the claimed kind's limit (over the largest limit when nothing is claimed)."""
    mime = _mime(label)
    claimed = declared_type(label, filename)
    if mime not in UNLABELLED and claimed is None:
        raise Invalid(
            "attachment_type_unsupported",
            params={"type": mime},
            errors=[FieldError("content_type", "attachment_type_unsupported", {"type": mime})],
        )
    check_size(size, claimed.kind if claimed else None)


def check_size(size: int, kind: Kind | None) -> None:
    limit = LIMITS[kind] if kind else MAX_SIZE
    if size > limit:
        raise TooLarge("attachment_too_large", params={"limit_mb": limit // MIB})


def check_content(detected: FileType | None, label: str | None, filename: str, size: int) -> None:
    """After sniffing: the content must be a type we take, the label and the file name's
    extension (when given) must agree with it, and its kind's size limit holds."""
    if detected is None:
        raise Invalid("attachment_type_unsupported", params={"type": _mime(label) or "?"})
    mime = _mime(label)
    suffix = PurePosixPath(filename.lower()).suffix
    label_lies = mime not in UNLABELLED and not detected.labelled_as(mime)
    name_lies = bool(suffix) and suffix in BY_EXTENSION and suffix not in detected.extensions
    if label_lies or name_lies:
        raise Invalid(
            "attachment_type_mismatch",
            params={"declared": mime or suffix, "detected": detected.mime},
        )
    check_size(size, detected.kind)


def check_sha256(value: str) -> str:
    digest = value.strip().lower()
    if not _SHA256.match(digest):
        raise Invalid("validation_failed", errors=[FieldError("sha256", "upload_sha256_invalid")])
    return digest


def chunk_range(header: str | None, total: int) -> tuple[int, int]:
    """`Content-Range: bytes START-END/TOTAL` (END inclusive) as the half-open [start, end).
    The total must be the session's size and the chunk at most CHUNK_MAX."""
    found = _RANGE.match((header or "").strip())
    if found is None:
        raise BadRequest("upload_range_invalid")
    start, last, whole = (int(part) for part in found.groups())
    if whole != total or start > last or last >= total:
        raise BadRequest("upload_range_invalid")
    if last - start + 1 > CHUNK_MAX:
        raise TooLarge("upload_chunk_too_large", params={"limit_mb": CHUNK_MAX // MIB})
    return start, last + 1


def check_offset(start: int, received: int) -> None:
    """A chunk continues exactly where the stored bytes end; the answer tells the client
    where to resume."""
    if start != received:
        raise Conflict(
            "upload_offset_mismatch", params={"offset": received}, extra={"offset": received}
        )


def content_disposition(filename: str) -> str:
    """An attachment header that survives any file name (RFC 6266 / RFC 5987)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
