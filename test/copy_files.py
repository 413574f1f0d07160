#!/usr/bin/python3
"""Print files as COPY text rows "name<TAB>\\\\xHEX" for psql's \\copy ... FROM PROGRAM,
so tests load images from the client side (the server need not read our files).
usage: copy_files.py BASE_DIR [FILE...]   (no FILE: every file in BASE_DIR except *.py, *.sh)
Names are paths relative to BASE_DIR."""
import os
import sys

base = sys.argv[1]
files = sys.argv[2:]
if not files:
    files = sorted(f for f in os.listdir(base)
                   if not f.endswith((".py", ".sh")) and os.path.isfile(os.path.join(base, f)))
out = sys.stdout
for name in files:
    with open(os.path.join(base, name), "rb") as f:
        data = f.read()
    out.write(name.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n"))
    out.write("\t\\\\x")
    out.write(data.hex())
    out.write("\n")
