#!/usr/bin/python3
"""Check renditions by decoding them with Pillow: sizes, formats and pixels.

usage: /usr/bin/python3 test/render_check.py PI_INSPECT FIXTURE_DIR
Runs the decoder tool (the same pi_render the extension calls) on the
rendition fixtures and prints one line per check; exits 1 on any failure.
"""
import io
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageChops, ImageStat

TOOL, FIX = sys.argv[1], sys.argv[2]
failures = 0


def render(name, w=0, h=0, kind="auto"):
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        line = subprocess.run([TOOL, "--render", str(w), str(h), kind, "--out", out.name,
                               os.path.join(FIX, name)], check=True, capture_output=True,
                              text=True).stdout.rstrip("\n").split("\t")
        if line[1] != "0":
            return None, line[-1]
        im = Image.open(io.BytesIO(open(out.name, "rb").read()))
        im.load()
        return im, ""


def check(what, ok, detail=""):
    global failures
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (": " + detail) if detail and not ok else ""))
    if not ok:
        failures += 1


def near(c, want, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(c, want))


# EXIF orientations 1..8: every one shows red, green / blue, white upright
for o in range(1, 9):
    im, err = render("orient%d.jpg" % o, kind="png")
    if im is None:
        check("orientation %d" % o, False, err)
        continue
    im = im.convert("RGB")
    w, h = im.size
    corners = [im.getpixel((w // 4, h // 4)), im.getpixel((3 * w // 4, h // 4)),
               im.getpixel((w // 4, 3 * h // 4)), im.getpixel((3 * w // 4, 3 * h // 4))]
    want = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
    check("orientation %d upright, 48x32" % o,
          im.size == (48, 32) and all(near(c, t) for c, t in zip(corners, want)),
          "size %s corners %s" % (im.size, corners))
    im, _ = render("orient%d.jpg" % o, 24, 24, "jpeg")
    check("orientation %d in a 24x24 box: 24x16" % o, im is not None and im.size == (24, 16),
          "size %s" % (im.size if im else None,))

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
