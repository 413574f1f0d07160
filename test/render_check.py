#!/usr/bin/python3
"""Check renditions by decoding them with Pillow: sizes, formats and pixels.

usage: /usr/bin/python3 test/render_check.py PI_INSPECT FIXTURE_DIR [CORPUS_DIR]
Runs the decoder tool (the same pi_render the extension calls) on the
rendition fixtures and prints one line per check; exits 1 on any failure.
With CORPUS_DIR (the shared corpus, ../shared/corpus), the corpus's WebPs
with EXIF orientations 2..8 are checked against Pillow's exif_transpose too;
without one there, a line "skip ..." says so.
AVIF renditions are decoded with libavif's own avifdec (Debian's
libavif-bin), as Pillow 9 cannot read AVIF.
"""
import io
import os
import shutil
import subprocess
import sys
import tempfile

from PIL import Image, ImageChops, ImageStat

from PIL import ImageOps

TOOL, FIX = sys.argv[1], sys.argv[2]
CORPUS = sys.argv[3] if len(sys.argv) > 3 else None
failures = 0


def render_bytes(name, w=0, h=0, kind="auto", extra=()):
    """A rendition's bytes; name is under FIX unless absolute."""
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        line = subprocess.run([TOOL, "--render", str(w), str(h), kind, "--out", out.name, *extra,
                               os.path.join(FIX, name)], check=True, capture_output=True,
                              text=True).stdout.rstrip("\n").split("\t")
        if line[1] != "0":
            return None, line[-1]
        return open(out.name, "rb").read(), ""


def open_image(data):
    """Pillow's image of a rendition; an AVIF through avifdec (im.format is then "AVIF")."""
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        if shutil.which("avifdec") is None:
            sys.exit("render_check: avifdec not found (Debian's libavif-bin: scripts/install-deps)")
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "in.avif"), "wb") as f:
                f.write(data)
            subprocess.run(["avifdec", os.path.join(d, "in.avif"), os.path.join(d, "out.png")],
                           check=True, capture_output=True)
            im = Image.open(os.path.join(d, "out.png"))
            im.load()
            im.format = "AVIF"
            return im
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def render(name, w=0, h=0, kind="auto", extra=()):
    data, err = render_bytes(name, w, h, kind, extra)
    return (open_image(data), "") if data is not None else (None, err)


def check(what, ok, detail=""):
    global failures
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (": " + detail) if detail and not ok else ""))
    if not ok:
        failures += 1


def near(c, want, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(c, want))


def header(path):
    """pi-inspect's header-mode line for a file, as columns (orientation is [11])."""
    return subprocess.run([TOOL, path], check=True, capture_output=True,
                          text=True).stdout.rstrip("\n").split("\t")


# EXIF orientations 1..8: every one shows red, green / blue, white upright; so
# does orient6.webp, the same picture as orient6.jpg in a WebP's EXIF chunk
for o, name in [(o, "orient%d.jpg" % o) for o in range(1, 9)] + [(6, "orient6.webp")]:
    im, err = render(name, kind="png")
    if im is None:
        check("orientation %d (%s)" % (o, name), False, err)
        continue
    im = im.convert("RGB")
    w, h = im.size
    corners = [im.getpixel((w // 4, h // 4)), im.getpixel((3 * w // 4, h // 4)),
               im.getpixel((w // 4, 3 * h // 4)), im.getpixel((3 * w // 4, 3 * h // 4))]
    want = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
    check("orientation %d (%s) upright, 48x32" % (o, name),
          im.size == (48, 32) and all(near(c, t) for c, t in zip(corners, want)),
          "size %s corners %s" % (im.size, corners))
    im, _ = render(name, 24, 24, "jpeg")
    check("orientation %d (%s) in a 24x24 box: 24x16" % (o, name),
          im is not None and im.size == (24, 16), "size %s" % (im.size if im else None,))
    got = header(os.path.join(FIX, name))
    check("orientation %d (%s) read from the header" % (o, name), got[11] == str(o), str(got))

# The shared corpus's WebPs with EXIF orientations 2..8 (Pillow's hopper, its
# EXIF chunk after "Exif\0\0"): the header says N, and a 64 px PNG rendition is
# Pillow's exif_transpose of the file, resized, within 6 levels on average
# (stored as is, the turned or flipped picture is 60 levels or more away).
HOPPER = os.path.join(CORPUS or "", "pillow", "pillow_hopper_orientation_%d.webp")
if CORPUS is None or not os.path.isfile(os.path.join(CORPUS, "manifest.csv")):
    print("skip corpus WebP orientations: no corpus at %s" % CORPUS)
else:
    for o in range(2, 9):
        f = HOPPER % o
        got = header(f)
        check("corpus %s: orientation %d" % (os.path.basename(f), o), got[11] == str(o), str(got))
        im, err = render(f, 64, 64, "png")
        ref = ImageOps.exif_transpose(Image.open(f)).convert("RGB")
        ref.thumbnail((64, 64))
        diff = ImageStat.Stat(ImageChops.difference(im.convert("RGB"), ref)).mean if im else None
        check("corpus %s: 64 px rendition upright, mean abs diff %s from Pillow's exif_transpose" %
              (os.path.basename(f), "/".join("%.2f" % d for d in diff) if diff else None),
              im is not None and im.size == ref.size and max(diff) <= 6.0,
              err or "size %s, Pillow %s, diff %s" % (im.size if im else None, ref.size, diff))

# box fitting, one side alone, never upscaling
for box, want in [((64, 64), (64, 48)), ((64, 0), (64, 48)), ((0, 120), (160, 120)),
                  ((1, 1), (1, 1)), ((5000, 5000), (640, 480))]:
    im, err = render("noise.jpg", box[0], box[1], "auto")
    check("noise.jpg in %sx%s is %s" % (box + (want,)),im is not None and im.size == want
          and im.format == "JPEG", err or str(im.size))
im, _ = render("tiny.png", 100, 100, "png")
check("no upscaling: 10x8 stays 10x8", im is not None and im.size == (10, 8))

# conversions and colour handling
im, _ = render("cmyk_red.jpg", 32, 32, "png")
check("CMYK JPEG to RGB red", im is not None and im.mode == "RGB" and near(im.getpixel((16, 12)), (255, 0, 0)),
      str(im.getpixel((16, 12)) if im else None))
im, _ = render("deep16.png", 100, 100, "png")
check("16-bit gray to 8-bit", im is not None and im.mode in ("RGB", "L") and
      near(im.convert("RGB").getpixel((10, 10)), (156, 156, 156), 2), str(im.mode if im else None))
im, _ = render("half_clear.png", 60, 60, "png")
check("alpha kept in PNG", im is not None and im.mode == "RGBA" and im.getpixel((5, 5))[3] == 255
      and im.getpixel((55, 5))[3] == 0, str(im.mode if im else None))
im, _ = render("half_clear.png", 60, 60, "gif")
ok = im is not None and "transparency" in im.info
if ok:
    rgba = im.convert("RGBA")
    ok = rgba.getpixel((5, 5)) == (255, 0, 0, 255) and rgba.getpixel((55, 5))[3] == 0
check("alpha kept in GIF (transparent index)", ok)
im, _ = render("half_clear.png", 60, 60, "jpeg")
check("alpha flattened on white in JPEG", im is not None and im.mode == "RGB" and
      near(im.getpixel((5, 5)), (255, 0, 0)) and near(im.getpixel((55, 5)), (255, 255, 255), 8))
im, _ = render("anim_red_blue.gif", 20, 20, "auto")
check("animated GIF: first frame, one frame", im is not None and im.format == "GIF" and
      getattr(im, "n_frames", 1) == 1 and near(im.convert("RGB").getpixel((5, 5)), (255, 0, 0), 0))
im, _ = render("pages_green_red.tif", 25, 25, "auto")
check("multi-page TIFF: first page, as PNG", im is not None and im.format == "PNG" and
      near(im.convert("RGB").getpixel((5, 5)), (0, 255, 0), 0))

# WebP and AVIF renditions: alpha kept, WebP sources read (alpha, first frame)
im, _ = render("half_clear.png", 60, 60, "webp")
check("alpha kept in WebP", im is not None and im.format == "WEBP" and im.mode == "RGBA" and
      near(im.getpixel((5, 5)), (255, 0, 0, 255), 8) and im.getpixel((55, 5))[3] == 0,
      str(im.getpixel((5, 5)) if im else None))
im, _ = render("half_clear.png", 60, 60, "avif")
check("alpha kept in AVIF", im is not None and im.format == "AVIF" and im.mode == "RGBA" and
      near(im.getpixel((5, 5)), (255, 0, 0, 255), 12) and im.getpixel((55, 5))[3] <= 4,
      str(im.getpixel((5, 5)) if im else None))
data, _ = render_bytes("half_clear.png", 60, 60, "AVIF")
check("AVIF rendition is an ISO file of brand avif, 60x40, under 4 KB",
      data is not None and data[4:12] == b"ftypavif" and open_image(data).size == (60, 40) and
      len(data) < 4096, str(len(data) if data else None))
im, _ = render("half_clear.webp", 60, 60, "png")
check("WebP source: alpha kept in PNG", im is not None and im.mode == "RGBA" and
      near(im.getpixel((5, 5)), (255, 0, 0, 255), 8) and im.getpixel((55, 5))[3] == 0,
      str(im.getpixel((5, 5)) if im else None))
im, _ = render("half_clear.webp", 60, 60, "auto")
check("WebP source renders as WebP by default", im is not None and im.format == "WEBP")
im, _ = render("anim_red_blue.webp", 20, 20, "auto")
check("animated WebP: first frame, one frame", im is not None and im.format == "WEBP" and
      getattr(im, "n_frames", 1) == 1 and near(im.convert("RGB").getpixel((5, 5)), (255, 0, 0), 8),
      str(im.convert("RGB").getpixel((5, 5)) if im else None))
im, _ = render("tiny.png", 0, 0, "webp", ("--webp-quality", "100"))
check("WebP quality 100 is lossless", im is not None and im.format == "WEBP" and
      im.convert("RGB").getpixel((3, 3)) == (0, 0, 255))
src = Image.open(os.path.join(FIX, "smooth.webp")).convert("RGB")
for box in ((160, 120), (100, 100)):
    ref = src.copy()
    ref.thumbnail(box)
    im, err = render("smooth.webp", box[0], box[1], "png")
    diff = ImageStat.Stat(ImageChops.difference(im.convert("RGB"), ref)).mean if im else None
    check("opaque WebP decoded at 1/4 scale in a %dx%d box: %s, within 3 levels of Pillow's" %
          (box + (ref.size,)), im is not None and im.size == ref.size and max(diff) <= 3.0,
          err or str(diff))
# smaller than JPEG q85 and close to the lossless rendition (bench/formats.py measures photos)
ref, _ = render("smooth.webp", 320, 240, "png")
jpeg, _ = render_bytes("smooth.webp", 320, 240, "jpeg")
for kind in ("webp", "avif"):
    data, err = render_bytes("smooth.webp", 320, 240, kind)
    diff = ImageStat.Stat(ImageChops.difference(open_image(data).convert("RGB"),
                                                ref.convert("RGB"))).mean if data else None
    check("%s at its default quality: %s bytes, under JPEG q85's %d, within 3 levels of PNG" %
          (kind, len(data) if data else None, len(jpeg)),
          data is not None and len(data) < len(jpeg) and max(diff) <= 3.0, err or str(diff))

# quality: against Pillow's own thumbnail of the same file
src = Image.open(os.path.join(FIX, "noise.jpg"))
src.draft("RGB", (160, 120))
ref = src.convert("RGB")
ref.thumbnail((160, 120))
im, _ = render("noise.jpg", 160, 120, "png")
diff = ImageStat.Stat(ImageChops.difference(im.convert("RGB"), ref)).mean
check("160x120 thumbnail within 4 levels of Pillow's on average", max(diff) <= 4.0, str(diff))

print("%d failures" % failures)
sys.exit(1 if failures else 0)
