#!/usr/bin/python3
"""Deterministic benchmark images (same bytes for a given Pillow): a photo-like
mix of gradients and seeded noise.  usage: make_images.py OUT_DIR"""
import io
import os
import random
import sys

from PIL import Image, ImageChops, ImageDraw


def photo(w, h, seed, amp):
    rnd = random.Random(seed)
    noise = Image.frombytes("RGB", (w, h), rnd.randbytes(w * h * 3))
    grad = Image.merge("RGB", (
        Image.linear_gradient("L").resize((w, h)),
        Image.radial_gradient("L").resize((w, h)),
        Image.linear_gradient("L").rotate(90).resize((w, h)),
    ))
    return Image.blend(grad, noise, amp)


def graphic(w, h):
    """A product shot of the catalogue kind: flat colours on white, the
    image an uncompressed TIFF stores at full size and LZ4 shrinks."""
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((w // 8, h // 5, w * 7 // 8, h * 4 // 5), radius=w // 12, fill=(30, 90, 160))
    d.ellipse((w // 3, h // 3, w * 2 // 3, h * 2 // 3), fill=(240, 200, 40))
    d.rectangle((w // 8, h * 5 // 6, w * 7 // 8, h * 5 // 6 + h // 30), fill=(200, 200, 200))
    return img


def save(img, path, **kw):
    img.save(path, **kw)
    return os.path.getsize(path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sizes = {}
    sizes["png_40k.png"] = save(photo(140, 105, 1, 0.22), f"{out}/png_40k.png", optimize=False)
    sizes["gif_13k.gif"] = save(photo(210, 160, 2, 0.12).quantize(64), f"{out}/gif_13k.gif")
    sizes["jpeg_700k.jpg"] = save(photo(1600, 1200, 3, 0.15), f"{out}/jpeg_700k.jpg", quality=90)
    sizes["tiff_1200k.tif"] = save(photo(640, 640, 4, 0.2), f"{out}/tiff_1200k.tif")
    sizes["tiff_graphic.tif"] = save(graphic(640, 640), f"{out}/tiff_graphic.tif")
    sizes["jpeg_5m.jpg"] = save(photo(4000, 3000, 5, 0.14), f"{out}/jpeg_5m.jpg", quality=93)
    # 4 MP PNG for the thumbnail benchmark
    sizes["png_4mp.png"] = save(photo(2400, 1700, 8, 0.1), f"{out}/png_4mp.png")
    # 64 KB PNG for the HTTP benchmark
    sizes["png_64k.png"] = save(photo(180, 140, 6, 0.22), f"{out}/png_64k.png")
    # scaling series: JPEGs of about 10 KB, 100 KB, 1 MB, 10 MB, 30 MB
    for name, (w, h, q) in {"scale_10k.jpg": (190, 140, 85), "scale_100k.jpg": (560, 420, 90),
                            "scale_1m.jpg": (1550, 1160, 93), "scale_10m.jpg": (4800, 3600, 95),
                            "scale_30m.jpg": (7000, 5200, 97)}.items():
        sizes[name] = save(photo(w, h, 7, 0.2), f"{out}/{name}", quality=q)
    for k, v in sizes.items():
        print(f"{k}\t{v}")


if __name__ == "__main__":
    main()
