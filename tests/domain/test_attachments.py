"""R-MOB-1 attachment rules without I/O: labels against content, size limits per kind,
Content-Range parsing and resumption, download headers; R-EVT-3 linking guards."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.attachments import (
    BY_EXTENSION,
    CHUNK_MAX,
    LIMITS,
    MIB,
    Kind,
    check_content,
    check_declared,
    check_offset,
    chunk_range,
    content_disposition,
    declared_type,
)
from domain.duplicates import Original, Window, check_link
from domain.errors import BadRequest, Conflict, DomainError, Invalid, TooLarge

JPEG = BY_EXTENSION[".jpg"]


def test_labels_and_names_are_read_for_what_they_claim() -> None:
    assert declared_type("image/JPG; charset=x", "a.bin") == JPEG
    assert declared_type("image/gif", "a.jpg") is None
    assert declared_type("image/jpg", "a.bin") == JPEG
    assert declared_type("application/octet-stream", "IMG_0001.JPG") == JPEG
    assert declared_type(None, "voice.amr") == BY_EXTENSION[".amr"]
    assert declared_type("", "noname") is None


def test_the_content_decides_and_the_label_must_agree() -> None:
    check_content(JPEG, "image/pjpeg", "scene.jpeg", 1000)
    check_content(JPEG, None, "scene", 1000)
    check_content(JPEG, "application/octet-stream", "upload.tmp", 1000)
    for label, name in (("video/mp4", "a.jpg"), ("image/jpeg", "a.png"), ("image/png", "a")):
        with pytest.raises(Invalid) as refused:
            check_content(JPEG, label, name, 1000)
        assert refused.value.code == "attachment_type_mismatch"
    with pytest.raises(Invalid) as unknown:
        check_content(None, "image/jpeg", "a.jpg", 10)
    assert unknown.value.code == "attachment_type_unsupported"


@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_has_its_limit(kind: Kind) -> None:
    sample = next(t for t in BY_EXTENSION.values() if t.kind == kind)
    check_content(sample, sample.mime, "", LIMITS[kind])
    with pytest.raises(TooLarge) as refused:
        check_content(sample, sample.mime, "", LIMITS[kind] + 1)
    assert refused.value.params == {"limit_mb": LIMITS[kind] // MIB}


def test_declared_sizes_are_checked_before_any_byte() -> None:
    check_declared("audio/mpeg", "a.mp3", LIMITS[Kind.AUDIO])
    with pytest.raises(TooLarge):
        check_declared("audio/mpeg", "a.mp3", LIMITS[Kind.AUDIO] + 1)
    # Unlabelled: only the largest limit applies until the content is known.
    check_declared(None, "blob", LIMITS[Kind.VIDEO])
    with pytest.raises(Invalid):
        check_declared("text/html", "a.html", 10)


def test_content_range_and_resumption() -> None:
    assert chunk_range("bytes 0-99/1000", 1000) == (0, 100)
    assert chunk_range(" bytes 900-999/1000 ", 1000) == (900, 1000)
    for header in (
        None,
        "bytes 0-99/999",
        "bytes 10-5/1000",
        "bytes 0-1000/1000",
        "0-9/1000",
        "bytes */1000",
    ):
        with pytest.raises(BadRequest):
            chunk_range(header, 1000)
    with pytest.raises(TooLarge):
        chunk_range(f"bytes 0-{CHUNK_MAX}/{CHUNK_MAX + 1}", CHUNK_MAX + 1)
    check_offset(100, 100)
    with pytest.raises(Conflict) as ahead:
        check_offset(200, 100)
    assert ahead.value.extra == {"offset": 100}


def test_download_names_survive_any_characters() -> None:
    header = content_disposition('现场 "照片".jpg')
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%22%E7%85%A7%E7%89%87%22.jpg" in header
    assert '"' not in header.split('filename="')[1].split('"')[0]


def test_r_evt_3_window_bounds_are_inclusive_days_either_side() -> None:
    at = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    assert Window(200, 7).bounds(at) == (at - timedelta(days=7), at + timedelta(days=7))


def test_r_evt_3_linking_guards() -> None:
    me, other, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    check_link(me, Original(other, None), has_duplicates=False)
    cases = [
        (None, False, "duplicate_original_not_found"),
        (Original(me, None), False, "duplicate_of_itself"),
        (Original(other, third), False, "duplicate_of_duplicate"),
        (Original(other, None), True, "duplicate_has_duplicates"),
    ]
    for original, has_duplicates, code in cases:
        with pytest.raises(DomainError) as refused:
            check_link(me, original, has_duplicates=has_duplicates)
        assert refused.value.code == code
