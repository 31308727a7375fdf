"""JPEG and PNG headers read without decoding a pixel: dimensions, and whether the file is whole.

A compressed frame's size says nothing about its decoded size: a 2 MB JPEG can declare 12000x12000
pixels and cost over half a gigabyte to decode. The endpoint reads the dimensions here first and
refuses a frame past its limit before any decoder allocates for it. A file cut short decodes
"successfully" (libjpeg pads it with grey and only warns on stderr), so training and the endpoint
check for the end marker first.
"""

from __future__ import annotations

import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8"
# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share the range
# but are not frames.
JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length field: TEM, RST0-7, SOI.
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8})
JPEG_END_OR_SCAN = frozenset({0xD9, 0xDA})  # EOI or start of scan before any frame header
JPEG_EOI = b"\xff\xd9"
JPEG_SOS = b"\xff\xda"
PNG_IEND = b"IEND"
PNG_IEND_TAIL = 12  # the IEND chunk: length (4), type (4), CRC (4)


class ImageHeaderError(ValueError):
    """The bytes are not a JPEG or PNG whose dimensions can be read."""


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) declared by a JPEG or PNG header; ImageHeaderError otherwise."""
    if data.startswith(PNG_SIGNATURE):
        return _png_size(data)
    if data.startswith(JPEG_START):
        return _jpeg_size(data)
    raise ImageHeaderError("not a JPEG or PNG image")


def is_complete(data: bytes) -> bool:
    """False for a JPEG or PNG cut short: no end marker where one must be.

    A JPEG ends with EOI after its scans; scan data byte-stuffs 0xFF, so an FF D9 after the first
    SOS can only be the real end (an EXIF thumbnail's EOI comes before it). A PNG ends with IEND.
    """
    if data.startswith(PNG_SIGNATURE):
        return PNG_IEND in data[-PNG_IEND_TAIL:]
    if data.startswith(JPEG_START):
        scan = data.find(JPEG_SOS)
        return scan >= 0 and data.rfind(JPEG_EOI) > scan
    return True


def _png_size(data: bytes) -> tuple[int, int]:
    # The first chunk must be IHDR: length (4), type (4), width (4), height (4).
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageHeaderError("PNG without an IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return _checked(width, height)


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2
    while position + 1 < len(data):
        if data[position] != 0xFF:
            raise ImageHeaderError("JPEG with a corrupt marker sequence")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        position += 2
        if marker in JPEG_STANDALONE:
            continue
        if marker in JPEG_END_OR_SCAN:
            break
        if position + 2 > len(data):
            break
        (length,) = struct.unpack(">H", data[position : position + 2])
        if length < 2:
            raise ImageHeaderError("JPEG with a corrupt segment length")
        if marker in JPEG_FRAME_MARKERS:
            if position + 7 > len(data):
                break
            height, width = struct.unpack(">HH", data[position + 3 : position + 7])
            return _checked(width, height)
        position += length
    raise ImageHeaderError("JPEG without a frame header")


def _checked(width: int, height: int) -> tuple[int, int]:
    # A JPEG height of 0 defers it to a DNL marker after the scan: unknowable up front.
    if width == 0 or height == 0:
        raise ImageHeaderError(f"image header declares {width}x{height} pixels")
    return width, height
