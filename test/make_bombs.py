#!/usr/bin/env python3
"""Metadata bombs an outside tester found: small files whose tags or text
chunks cost libtiff or libpng a gigabyte.  Written to the folder given.
  tiff_tag_bomb.tif   1 MB: 1000 unknown tags all naming the same 1 MB block
  png_ztxt_bomb.png   342 KB: 50 zTXt chunks that inflate to 7 MB each
  webp_many_chunks.webp    400 KB: 50000 empty chunks (libwebp's demuxer keeps a record each)
  webp_chunks_at_cap.webp  320 KB: 39999 of them, under the cap of 40000 chunks
  webp_many_frames.webp    480 KB: 10001 frames of one pixel (the cap is 10000)
  webp_frames_at_cap.webp  480 KB: 10000 of them
"""
import struct, sys, zlib, os
out = sys.argv[1]
# TIFF: 1000 unknown tags each claiming the same 1 MB block (an outside tester's file)
N, K = 1000000, 1000
entries = [(256,4,1,struct.pack('>I',1)),(257,4,1,struct.pack('>I',1)),(258,3,1,struct.pack('>HH',8,0)),
           (259,3,1,struct.pack('>HH',1,0)),(262,3,1,struct.pack('>HH',1,0)),(273,4,1,struct.pack('>I',8+N)),
           (277,3,1,struct.pack('>HH',1,0)),(278,4,1,struct.pack('>I',1)),(279,4,1,struct.pack('>I',1))]
entries += [(60000+i,7,N,struct.pack('>I',8)) for i in range(K)]
entries.sort()
ifd = struct.pack('>H', len(entries)) + b''.join(struct.pack('>HHI',t,ty,c)+v for t,ty,c,v in entries) + struct.pack('>I',0)
tiff = b'MM\x00\x2a' + struct.pack('>I', 8+N+2) + b'\x00'*N + b'\x00\x00' + ifd
open(os.path.join(out,'tiff_tag_bomb.tif'),'wb').write(tiff)
# PNG: 50 zTXt chunks of 7 MB each before IDAT
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t+d) & 0xffffffff)
z = zlib.compress(b'A'*7000000, 9)
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB',1,1,8,0,0,0,0))
png += b''.join(chunk(b'zTXt', b'k%d\x00\x00' % i + z) for i in range(50))
png += chunk(b'IDAT', zlib.compress(b'\x00\x00')) + chunk(b'IEND', b'')
open(os.path.join(out,'png_ztxt_bomb.png'),'wb').write(png)
# WebP: chunks and frames past and at the caps (src/decode/codec_webp.c)
def webp_chunk(kind, data): return kind + struct.pack('<I', len(data)) + data + (b'\x00' if len(data) & 1 else b'')
def riff(*chunks):
    body = b'WEBP' + b''.join(chunks)
    return b'RIFF' + struct.pack('<I', len(body)) + body
def vp8x(flags): return webp_chunk(b'VP8X', struct.pack('<I', flags) + b'\x00' * 6)   # a 1x1 canvas
vp8l = webp_chunk(b'VP8L', bytes.fromhex('2f000000000710fd8ffe0722a2ff01'))  # 1x1 red, lossless
anmf = webp_chunk(b'ANMF', b'\x00' * 12 + b'\x64\x00\x00\x00' + vp8l)
anim = webp_chunk(b'ANIM', b'\x00' * 6)
junk = webp_chunk(b'JUNK', b'')
for name, data in (('webp_many_chunks.webp', riff(vp8x(0), *[junk] * 50000, vp8l)),
                   ('webp_chunks_at_cap.webp', riff(vp8x(0), *[junk] * 39998, vp8l)),
                   ('webp_many_frames.webp', riff(vp8x(2), anim, *[anmf] * 10001)),
                   ('webp_frames_at_cap.webp', riff(vp8x(2), anim, *[anmf] * 10000))):
    open(os.path.join(out, name), 'wb').write(data)
