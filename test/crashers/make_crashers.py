#!/usr/bin/python3
"""Hand-made hostile files: each must be refused (or accepted) cleanly, never crash.
The fuzzers add their finds here too.  usage: /usr/bin/python3 make_crashers.py"""
import os
import struct
import zlib

OUT = os.path.dirname(os.path.abspath(__file__))


def w(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


SIG = b"\x89PNG\r\n\x1a\n"
IHDR = chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
# a chunk length of 2^31 - 1 in a 60-byte file
w("png_huge_chunk_length.png", SIG + IHDR + struct.pack(">I", 0x7FFFFFFF) + b"tEXt" + b"x" * 16)
# zlib bomb: a 4x4 image whose IDAT inflates to megabytes
w("png_zlib_bomb.png", SIG + IHDR + chunk(b"IDAT", zlib.compress(b"\0" * 4_000_000, 9)) + chunk(b"IEND", b""))
# acTL claiming 2^31 frames
w("png_actl_huge.png", SIG + IHDR + chunk(b"acTL", struct.pack(">II", 0x7FFFFFFF, 0)) +
  chunk(b"IDAT", zlib.compress(b"\0" * 20)) + chunk(b"IEND", b""))
# width x height fine, but bit depth 16 RGBA with a 2^31-1 width: row size overflow territory
w("png_wide_row.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 0x7FFFFFFF, 1, 16, 6, 0, 0, 0)) +
  chunk(b"IDAT", zlib.compress(b"\0" * 20)) + chunk(b"IEND", b""))

# TIFF whose IFD points to itself (a loop), and one with 65535 entries past the end
ifd = struct.pack("<H", 1) + struct.pack("<HHII", 256, 4, 1, 1) + struct.pack("<I", 8)
w("tiff_ifd_loop.tif", b"II*\0" + struct.pack("<I", 8) + ifd)
w("tiff_ifd_count_huge.tif", b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 0xFFFF) + b"\0" * 24)
# strip offsets/counts arrays claiming 2^30 strips
entries = [(256, 4, 1, 16), (257, 4, 1, 0x40000000), (258, 3, 1, 8), (259, 3, 1, 1),
           (262, 3, 1, 1), (273, 4, 0x40000000, 200), (277, 3, 1, 1), (278, 4, 1, 1),
           (279, 4, 0x40000000, 200)]
body = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
w("tiff_many_strips.tif", b"II*\0" + struct.pack("<I", 8) + body)

# GIF: a frame far larger than the screen, data truncated; and 10000 tiny frames
gif = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0, 0, 0)
w("gif_huge_frame.gif", gif + b"," + struct.pack("<HHHHB", 0, 0, 0xFFFF, 0xFFFF, 0) + b"\x08\x01\x00")
frame = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
w("gif_many_frames.gif", b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff" +
  frame * 10000 + b";")
# an extension block chain that never ends
w("gif_endless_extension.gif", gif + b"!\xfe" + b"\xff" + b"A" * 255 + b"\xff" + b"B" * 100)
# The canvas (logical screen, grown by any frame drawn past it) counts against
# max_pixels: what is saved must be renderable.  Each file is well formed, with
# 1x1 frames, and must be refused with the pixel limit (test/decoder.sh checks).
gct = b"\0\0\0\xff\xff\xff"


def gif_frame(left, top):
    return b"," + struct.pack("<HHHHB", left, top, 1, 1, 0) + b"\x02\x02\x44\x01\x00"


def gif_file(sw, sh, *frames):
    return b"GIF89a" + struct.pack("<HHBBB", sw, sh, 0x80, 0, 0) + gct + b"".join(frames) + b";"


# a 65535 x 65535 logical screen (4.3 G pixels) holding one 1x1 frame
w("gif_canvas_huge_screen.gif", gif_file(0xFFFF, 0xFFFF, gif_frame(0, 0)))
# a 16 x 16 screen whose first frame is drawn at (60000, 60000): a 60001 x 60001 canvas
w("gif_canvas_grown_by_first_frame.gif", gif_file(16, 16, gif_frame(60000, 60000)))
# the same growth by a second frame (the reported size stays 16 x 16, as Pillow's)
w("gif_canvas_grown_by_later_frame.gif", gif_file(16, 16, gif_frame(0, 0), gif_frame(60000, 60000)))

# JPEG: SOF claiming 65500 x 65500 with three components, then nothing
sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 65500, 65500, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
w("jpeg_huge_sof.jpg", b"\xff\xd8" + sof + b"\xff\xd9")
# a marker length running past the end
w("jpeg_marker_overrun.jpg", b"\xff\xd8\xff\xe1\xff\xff" + b"Exif\0\0" + b"II*\0")
# an EXIF block whose IFD offset points far outside it
exif = b"Exif\0\0" + b"II*\0" + struct.pack("<I", 0xFFFFFF00) + b"\0" * 8
w("jpeg_exif_bad_offset.jpg", b"\xff\xd8\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + sof.replace(
    struct.pack(">HH", 65500, 65500), struct.pack(">HH", 8, 8)) + b"\xff\xd9")

# WebP (RIFF chunks, little-endian lengths, padded to even); make_bombs.py
# writes the large ones (50000 chunks, 10001 frames) at test time
def webp_chunk(kind, data):
    return kind + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def riff(*chunks):
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def le24(v):
    return struct.pack("<I", v)[:3]


def vp8x(flags, w, h):
    return webp_chunk(b"VP8X", struct.pack("<I", flags) + le24(w - 1) + le24(h - 1))


# a 1x1 red lossless image, as Pillow writes it
VP8L_1X1 = webp_chunk(b"VP8L", bytes.fromhex("2f000000000710fd8ffe0722a2ff01"))
ANIM = webp_chunk(b"ANIM", b"\0\0\0\0\0\0")


def anmf(x, y, image=VP8L_1X1):
    return webp_chunk(b"ANMF", le24(x // 2) + le24(y // 2) + le24(0) + le24(0) + le24(100) + b"\0" + image)


# a 60000 x 60000 animation canvas (3.6 G pixels) holding one 1x1 frame
w("webp_canvas_huge.webp", riff(vp8x(0x02, 60000, 60000), ANIM, anmf(0, 0)))
# a frame drawn past its 4x4 canvas
w("webp_frame_outside.webp", riff(vp8x(0x02, 4, 4), ANIM, anmf(4, 4)))
# a RIFF length of 4 GB - 2 on a 35-byte file, and a VP8 chunk length far past the end
w("webp_riff_huge.webp", b"RIFF\xfe\xff\xff\xff" + b"WEBP" + VP8L_1X1)
w("webp_chunk_huge.webp", riff(b"VP8 " + struct.pack("<I", 0x7FFFFFF0) + b"\0" * 16))
