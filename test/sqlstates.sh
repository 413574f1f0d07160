#!/bin/sh
# The README's "SQLSTATEs and HTTP statuses" table says what the gateway
# does: every row's SQLSTATEs (xxx: any of that class) must map to the
# status the row names, as the gateway's own table decides
# (--sqlstate-status); and every SQLSTATE the gateway lists is in the README.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GW=${PI_GATEWAY:-$ROOT/gateway/product-image-gateway}
exec /usr/bin/python3 - "$ROOT/README.md" "$GW" "$ROOT/gateway/error.c" <<'PY'
import re, subprocess, sys
readme, gw, src_path = sys.argv[1:4]
src = open(src_path).read()
text = open(readme).read()
table = text[text.index("| SQLSTATE | when | HTTP |"):]
rows = []
for line in table.splitlines()[2:]:
    if not line.startswith("|"):
        break
    cells = [c.strip() for c in line.strip("|").split("|")]
    rows.append((cells[0], cells[-1]))
passed = failed = 0
def status(code):
    out = subprocess.run([gw, "--sqlstate-status", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[1]), int(out[2])
seen = set()
for codes, http in rows:
    if codes.startswith("anything else"):
        want = (500, 500)
        probes = ["XX000", "P0001", "23505"]
    else:
        nums = [int(n) for n in re.findall(r"\b([1-5]\d\d)\b", http)]
        want = (nums[0], nums[1] if len(nums) > 1 else nums[0])
        probes = []
        for c in re.split(r",\s*", codes.replace(" other", "")):
            seen.add(c)
            probes.append(c.replace("x", "0") if "x" in c else c)
    for p in probes:
        got = status(p)
        if got == want:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: README says {codes} -> {http}, the gateway maps {p} to {got[0]} (with credentials), {got[1]} (without)")
# every SQLSTATE of the gateway's table appears in the README (a class prefix as its xxx form)
table_src = src[src.index("sqlstate_status[] = {"):src.index("};", src.index("sqlstate_status[] = {"))]
for st in re.findall(r'\{"([0-9A-Z]+)",', table_src):
    form = st if len(st) == 5 else st + "x" * (5 - len(st))
    alt = st + "0x" if len(st) == 3 else None
    if form in seen or st in seen or (alt and alt in seen):
        passed += 1
    else:
        failed += 1
        print(f"FAIL: the gateway maps {st} but the README's table does not list it")
print(f"sqlstates: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
