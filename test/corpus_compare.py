#!/usr/bin/env python3
"""Conformance run of the decoder over ../shared/corpus against Pillow's verdicts.

Reads lines of `pi-inspect` output (header mode and full mode) and the corpus
manifest.csv, and checks:
  * every PNG, JPEG, GIF, TIFF or WebP file Pillow loads fully is accepted in
    both modes with the same format, width, height and frame count (stored
    size: EXIF orientation is not applied to either);
  * every PngSuite x*.png is rejected in full mode;
  * no file made the decoder crash (every file has a line in both modes).
Known, explained differences are listed in EXCEPTIONS.  Prints the counts and
exits 1 on any unexplained disagreement.

usage: corpus_compare.py CORPUS_DIR HEADER_TSV FULL_TSV
"""
import csv
import os
import sys

# path -> reason.  Files where we and Pillow disagree for a good reason.
MPO = ("MPO (multi-picture JPEG): we store and describe the primary JPEG image, "
       "Pillow's MPO plugin also counts the second picture")
# WebP data in TIFF strips is WebP under a TIFF label: refused like a WebP
# upload (product_image.accept_formats decides WebP; libtiff's WebP codec
# would otherwise decode what the setting refuses)
WEBP_IN_TIFF = "TIFF strips compressed as WebP: refused, as WebP uploads are by default"

# What is saved can be rendered: a first page libtiff's RGBA interface
# cannot read (12- or 32-bit samples) would fail every thumbnail
NOT_RENDERABLE = "a first page libtiff cannot render (12- or 32-bit samples): refused at save"

EXCEPTIONS = {
    "pillow/pillow_frozenpond.mpo": MPO,
    "pillow/pillow_sugarshack.mpo": MPO,
    "pillow/pillow_ignore_frame_size.mpo": MPO,
    "pillow/pillow_padded_idat.png": "zlib data continues after the last row; full mode makes libpng's "
                                     "benign 'extra compressed data' an error, so a zlib bomb hidden after "
                                     "the image costs no inflate time (header mode accepts it)",
    "pillow/pillow_issue_2811.gif": "LZW minimum code size 11, over the GIF limit of 8; "
                                    "giflib refuses it, Pillow is lenient",
    "pillow/pillow_hopper_webp.tif": WEBP_IN_TIFF,
    "pillow/pillow_10ct_32bit_128.tiff": NOT_RENDERABLE,
    "pillow/pillow_12bit.cropped.tif": NOT_RENDERABLE,
    "pillow/pillow_16_bit_binary_pgm.tiff": NOT_RENDERABLE,
    "libtiff/libtiff_webp_lossless_rgba_alpha_fully_opaque.tif": WEBP_IN_TIFF,
}

# The contract makes libjpeg's corrupt-data warnings fatal in full mode;
# Pillow ignores them.  Such rejections are counted, not reported as problems.
JPEG_WARNINGS = ("libjpeg: Corrupt JPEG data", "libjpeg: Premature end of JPEG file",
                 "libjpeg: Inconsistent progression sequence")


def load(tsv, corpus):
    out = {}
    with open(tsv, encoding="utf-8", errors="replace") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 13:
                continue
            rel = os.path.relpath(cols[0], corpus) if os.path.isabs(cols[0]) else cols[0]
            out[rel] = {
                "rc": int(cols[1]), "format": cols[2], "width": int(cols[3]),
                "height": int(cols[4]), "frames": int(cols[5]), "msg": cols[12],
            }
    return out


def main():
    corpus, header_tsv, full_tsv = sys.argv[1:4]
    header = load(header_tsv, corpus)
    full = load(full_tsv, corpus)
    rows = list(csv.DictReader(open(os.path.join(corpus, "manifest.csv"))))
    problems = []
    counts = {"files": 0, "pillow_ok": 0, "agree": 0, "x_rejected": 0, "x_total": 0,
              "accepted_header": 0, "accepted_full": 0, "excepted": 0,
              "jpeg_warnings": 0}
    for row in rows:
        path = row["path"]
        counts["files"] += 1
        h, fu = header.get(path), full.get(path)
        if h is None or fu is None:
            problems.append(f"{path}: no result (decoder crashed?)")
            continue
        counts["accepted_header"] += h["rc"] == 0
        counts["accepted_full"] += fu["rc"] == 0
        base = os.path.basename(path)
        if base.startswith("pngsuite_x"):
            counts["x_total"] += 1
            if fu["rc"] != 0:
                counts["x_rejected"] += 1
            elif path not in EXCEPTIONS:
                problems.append(f"{path}: corrupt PngSuite file accepted in full mode")
            continue
        if row["format"] not in ("png", "jpeg", "gif", "tiff", "webp") or row["pillow"] != "ok":
            continue
        counts["pillow_ok"] += 1
        want = (row["format"], int(row["width"]), int(row["height"]), int(row["n_frames"] or 1))
        bad = []
        for mode, r in (("header", h), ("full", fu)):
            if r["rc"] != 0:
                bad.append(f"{mode} mode rejects it: {r['msg']}")
            else:
                got = (r["format"], r["width"], r["height"], r["frames"])
                if got != want:
                    bad.append(f"{mode} mode reads {got}, Pillow {want}")
        if not bad:
            counts["agree"] += 1
        elif (h["rc"] == 0 and fu["rc"] != 0 and len(bad) == 1
              and fu["msg"].startswith(JPEG_WARNINGS)):
            counts["jpeg_warnings"] += 1
        elif path in EXCEPTIONS:
            counts["excepted"] += 1
        else:
            problems.extend(f"{path}: {b}" for b in bad)
    print("corpus: {files} files; Pillow loads {pillow_ok} PNG/JPEG/GIF/TIFF/WebP files, "
          "we agree on {agree}, {excepted} listed exceptions, "
          "{jpeg_warnings} JPEGs rejected in full mode for libjpeg corrupt-data warnings; "
          "PngSuite x*.png rejected in full mode: {x_rejected}/{x_total}; "
          "accepted overall: {accepted_header} header mode, {accepted_full} full mode"
          .format(**counts))
    for p in problems[:50]:
        print("DISAGREE", p)
    if len(problems) > 50:
        print(f"... and {len(problems) - 50} more")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
