#!/usr/bin/python3
"""Rendition formats compared: bytes, encode time and SSIM of JPEG, WebP and AVIF thumbnails.

usage: /usr/bin/python3 bench/formats.py [--box N] [--repeat N] [--webp Q,..] [--avif Q,..]
                                         [--speeds S,..] PHOTO...
Not a test: a measurement, printed as a table.  For each photo the decoder
tool renders the box-sized thumbnail as PNG (the reference: the source
downscaled by our own resampler, before any lossy step), then as JPEG (q85,
the extension's default), WebP and AVIF at the qualities and AVIF speeds
asked (0: the library's default); each is decoded (Pillow; avifdec for AVIF)
and compared with the reference by SSIM (skimage.metrics.structural_similarity
on RGB, Gaussian window, as Wang et al.).  Encode time is the time to render
the reference PNG itself (same size: no scaling) in that format, per image:
the best of three runs of (--repeat + 1 renders) - (1 render), over --repeat,
so process start-up is not counted; it includes decoding the small PNG,
which the "png" row (zlib level 1) shows with PNG's own encoding.
Needs python3-pil, python3-skimage, libavif-bin (avifdec) and tools/pi-inspect.
"""
import argparse
import io
import os
import subprocess
import sys
import tempfile
import time

import numpy
from PIL import Image
from skimage.metrics import structural_similarity

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "tools", "pi-inspect")


def render(src, box, kind, extra=(), repeat=1):
    """Run pi-inspect --render; return (bytes, seconds)."""
    with tempfile.NamedTemporaryFile(suffix="." + kind) as out:
        t = time.perf_counter()
        line = subprocess.run([TOOL, "--render", str(box), str(box), kind, "--out", out.name,
                               "--repeat", str(repeat), *extra, src],
                              check=True, capture_output=True, text=True).stdout.split("\t")
        t = time.perf_counter() - t
        if line[1] != "0":
            sys.exit(f"formats: {src} as {kind}: {line[-1]}")
        with open(out.name, "rb") as f:
            return f.read(), t


def pixels(data, kind):
    if kind == "avif":
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "in.avif"), "wb") as f:
                f.write(data)
            subprocess.run(["avifdec", os.path.join(d, "in.avif"), os.path.join(d, "out.png")],
                           check=True, capture_output=True)
            return numpy.asarray(Image.open(os.path.join(d, "out.png")).convert("RGB"))
    return numpy.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def ssim(a, b):
    return structural_similarity(a, b, channel_axis=2, data_range=255, gaussian_weights=True,
                                 sigma=1.5, use_sample_covariance=False)


def encode_ms(ref_path, box, kind, extra, repeat):
    """Per-image time: the best of 3 of ((repeat + 1 renders) - (1 render)) / repeat."""
    best = None
    for _ in range(3):
        _, one = render(ref_path, box, kind, extra, 1)
        _, many = render(ref_path, box, kind, extra, repeat + 1)
        t = (many - one) / repeat
        best = t if best is None or t < best else best
    return 1000 * best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--box", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--webp", default="0")
    ap.add_argument("--avif", default="0")
    ap.add_argument("--speeds", default="0")
    ap.add_argument("photos", nargs="+")
    args = ap.parse_args()
    variants = [("jpeg", "q85", ["--quality", "85"]), ("png", "level 1", [])]
    variants += [("webp", "q%s" % (q if q != "0" else "default"), ["--webp-quality", q])
                 for q in args.webp.split(",")]
    variants += [("avif", "q%s s%s" % (q if q != "0" else "default", s if s != "0" else "default"),
                  ["--avif-quality", q, "--avif-speed", s])
                 for q in args.avif.split(",") for s in args.speeds.split(",")]
    totals = {}
    # the first variant is the JPEG all others are compared with
    print("%-28s %-5s %-18s %8s %7s %9s %7s" % ("photo", "type", "setting", "bytes", "x jpeg",
                                                 "encode ms", "SSIM"))
    with tempfile.TemporaryDirectory() as tmp:
        for photo in args.photos:
            ref_data, _ = render(photo, args.box, "png")
            ref_path = os.path.join(tmp, "ref.png")
            with open(ref_path, "wb") as f:
                f.write(ref_data)
            ref = pixels(ref_data, "png")
            jpeg_bytes = None
            for kind, setting, extra in variants:
                data, _ = render(photo, args.box, kind, extra)
                if jpeg_bytes is None:
                    jpeg_bytes = len(data)
                ms = encode_ms(ref_path, args.box, kind, extra, args.repeat)
                s = ssim(ref, pixels(data, kind))
                t = totals.setdefault((kind, setting), [0, 0, 0.0, 0.0, 0])
                t[0] += len(data)
                t[1] += jpeg_bytes
                t[2] += ms
                t[3] += s
                t[4] += 1
                print("%-28s %-5s %-18s %8d %7.2f %9.1f %7.4f" % (
                    os.path.basename(photo)[:28], kind, setting, len(data), len(data) / jpeg_bytes,
                    ms, s))
    print()
    print("%-28s %-5s %-18s %8s %7s %9s %7s" % ("all photos (sum, mean)", "type", "setting",
                                                 "bytes", "x jpeg", "encode ms", "SSIM"))
    for (kind, setting), (b, jb, ms, s, n) in totals.items():
        print("%-28s %-5s %-18s %8d %7.2f %9.1f %7.4f" % ("", kind, setting, b, b / jb, ms / n, s / n))


if __name__ == "__main__":
    main()
