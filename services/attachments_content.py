"""What an uploaded file really is, and the bytes kept of it (R-MOB-1): the type is sniffed
from the content (puremagic), never taken from the label; photos are decoded and re-encoded
(Pillow) so that nothing but pixels survives — no EXIF, least of all the GPS position;
audio, video and documents are kept as they are once their type checks out."""

import io
import warnings
from dataclasses import dataclass

import anyio
import puremagic
from PIL import Image, ImageOps, UnidentifiedImageError

from domain.attachments import BY_EXTENSION, MAX_PIXELS, FileType, Kind, check_content
from domain.errors import Invalid

# Sniffing reads the head of the file; the signatures we take all sit near the start.
_HEAD = 64 * 1024
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Prepared:
    type: FileType
    data: bytes


def sniff(data: bytes) -> FileType | None:
    """The accepted type the content's signature names, if any."""
    try:
        matches = puremagic.magic_string(data[:_HEAD])
    except puremagic.PureError:
        return None
    return next((BY_EXTENSION[m.extension] for m in matches if m.extension in BY_EXTENSION), None)


def _reencode(data: bytes, mime: str) -> bytes:
    """The photo's pixels, upright, in a fresh file of the same format and nothing else."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Invalid("attachment_image_invalid")
                upright = ImageOps.exif_transpose(image)
                if upright.mode not in ("RGB", "RGBA", "L", "LA"):
                    upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
                if mime == "image/jpeg" and upright.mode in ("RGBA", "LA"):
                    upright = upright.convert("RGB")
                # A new image: no info dictionary (EXIF, XMP, comments) travels along.
                clean = Image.new(upright.mode, upright.size)
                clean.paste(upright)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise Invalid("attachment_image_invalid") from exc
    out = io.BytesIO()
    options = {"quality": 90} if mime != "image/png" else {"optimize": True}
    clean.save(out, _PILLOW_FORMATS[mime], **options)
    return out.getvalue()


async def prepare(data: bytes, *, label: str | None, filename: str) -> Prepared:
    """Check the content against its label, name and size limit; re-encode photos."""
    detected = sniff(data)
    check_content(detected, label, filename, len(data))
    assert detected is not None
    if detected.kind != Kind.PHOTO:
        return Prepared(detected, data)
    # Decoding is CPU work: off the event loop.
    return Prepared(detected, await anyio.to_thread.run_sync(_reencode, data, detected.mime))
