#!/usr/bin/python3
"""product_image benchmarks, side by side in one run; prints Markdown tables.

Run by bench/run, which starts a private cluster and exports PGHOST/PGPORT.
Sections: save (pgbench, interleaved), decode (standalone vs Pillow, callgrind),
http (wrk vs direct libpq), scaling (time and backend memory vs size), thumbs,
reads (GET through the gateway vs nginx serving the same bytes from disk, and
product_get_image vs a plain SELECT of the column).
Environment: BENCH_SECONDS (per pgbench/wrk run, default 5), BENCH_ROUNDS
(default 3), BENCH_SECTIONS (default "save decode http scaling thumbs").
"""
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMG = os.environ.get("BENCH_IMAGES", os.path.join(ROOT, ".run", "bench-images"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECTIONS = os.environ.get("BENCH_SECTIONS", "save durable decode http scaling thumbs reads formats").split()
DB = "pi_bench"
PGBIN = subprocess.check_output(["pg_config", "--bindir"], text=True).strip()
SAVE_IMAGES = ["png_40k.png", "gif_13k.gif", "jpeg_700k.jpg", "tiff_1200k.tif", "jpeg_5m.jpg"]
SCALE_IMAGES = ["scale_10k.jpg", "scale_100k.jpg", "scale_1m.jpg", "scale_10m.jpg", "scale_30m.jpg"]


def decode_libs():
    """The decoder's libraries, from its one source list (src/decode/sources.mk)."""
    for line in open(os.path.join(ROOT, "src", "decode", "sources.mk")):
        if line.startswith("PI_DECODE_LIBS"):
            return line.split("=", 1)[1].split()
    sys.exit("PI_DECODE_LIBS not found in src/decode/sources.mk")


def psql(sql, db=DB, env=None):
    return subprocess.run([f"{PGBIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db],
                          input=sql, text=True, capture_output=True, check=True, env=env).stdout


def size_label(n):
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def setup():
    subprocess.run([f"{PGBIN}/psql", "-X", "-q", "-d", "postgres", "-c", "SET client_min_messages=warning",
                    "-c", f"DROP DATABASE IF EXISTS {DB}", "-c", f"CREATE DATABASE {DB}"], check=True)
    files = " ".join(sorted(os.listdir(IMG)))
    psql(f"""
CREATE EXTENSION product_image;
CREATE EXTENSION plpython3u;
ALTER DATABASE {DB} SET product_image.max_bytes = '64MB';
CREATE TABLE product (id int PRIMARY KEY);
INSERT INTO product SELECT generate_series(1, 1000);
SELECT product_image.attach('product');
CREATE TABLE bench_image (name text PRIMARY KEY, img bytea);
\\copy bench_image FROM PROGRAM 'python3 {ROOT}/test/copy_files.py {IMG} {files}'

-- baseline 1: what a user writes by hand, no validation, default storage
CREATE TABLE naive_image (product_id int PRIMARY KEY, data bytea NOT NULL, size int, updated timestamptz);
CREATE FUNCTION naive_save(pid int, img bytea) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    UPDATE naive_image SET data = img, size = octet_length(img), updated = now() WHERE product_id = pid;
    IF NOT FOUND THEN
        INSERT INTO naive_image VALUES (pid, img, octet_length(img), now());
    END IF;
    RETURN pid;
END $$;

-- baselines 2 and 3: PL/Python + Pillow, header only or with load()
CREATE TABLE pil_image (product_id int PRIMARY KEY, data bytea NOT NULL, format text,
                        width int, height int, mode text, updated timestamptz);
CREATE FUNCTION pil_save(pid int, img bytea, full_load boolean) RETURNS int LANGUAGE plpython3u AS $$
import io
from PIL import Image
im = Image.open(io.BytesIO(img))
if full_load:
    im.load()
if "upd" not in SD:
    SD["upd"] = plpy.prepare("UPDATE pil_image SET data = $2, format = $3, width = $4, height = $5, "
                             "mode = $6, updated = now() WHERE product_id = $1",
                             ["int", "bytea", "text", "int", "int", "text"])
    SD["ins"] = plpy.prepare("INSERT INTO pil_image VALUES ($1, $2, $3, $4, $5, $6, now())",
                             ["int", "bytea", "text", "int", "int", "text"])
args = [pid, img, im.format, im.size[0], im.size[1], im.mode]
if plpy.execute(SD["upd"], args).nrows() == 0:
    plpy.execute(SD["ins"], args)
return pid
$$;
""")


def pgbench(sql, clients, seconds, options=""):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\\set pid random(1, 1000)\n" + sql + "\n")
        script = f.name
    env = dict(os.environ, PGOPTIONS=options)
    out = subprocess.run([f"{PGBIN}/pgbench", "-n", "-c", str(clients), "-j", str(clients),
                          "-T", str(int(seconds)), "-f", script, DB], env=env, text=True,
                         capture_output=True)
    os.unlink(script)
    m = re.search(r"tps = ([0-9.]+) \(without initial", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    if not m or out.returncode != 0 or (failed and failed.group(1) != "0"):
        sys.exit(f"pgbench failed: {out.stdout[-800:]} {out.stderr[-800:]}")
    return float(m.group(1))


def bench_save():
    contenders = [
        ("product_save_image, header", "SELECT product_image.product_save_image(:pid, img) FROM bench_image WHERE name = '{n}';", "-c product_image.validate=header"),
        ("product_save_image, full", "SELECT product_image.product_save_image(:pid, img) FROM bench_image WHERE name = '{n}';", "-c product_image.validate=full"),
        ("naive plpgsql INSERT+UPDATE", "SELECT naive_save(:pid, img) FROM bench_image WHERE name = '{n}';", ""),
        ("PL/Python + Pillow, open", "SELECT pil_save(:pid, img, false) FROM bench_image WHERE name = '{n}';", ""),
        ("PL/Python + Pillow, load()", "SELECT pil_save(:pid, img, true) FROM bench_image WHERE name = '{n}';", ""),
    ]
    sizes = dict(l.split("|") for l in psql("SELECT name, octet_length(img) FROM bench_image").split("\n") if l)
    print(f"\n### Save: saves per second (median of {ROUNDS} interleaved runs of {SECONDS:g} s)\n")
    print("| image | clients | header | full | naive INSERT | Pillow open | Pillow load() | header/naive | header/Pillow open | full/Pillow load() |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    tables = {"product_image": "product_image.blob", "naive_save": "naive_image", "pil_save": "pil_image"}
    for name in SAVE_IMAGES:
        for clients in (1, 2):
            # fresh tables per block; dead TOAST reclaimed before each (untimed) run,
            # or a 20-minute run writes tens of GB faster than autovacuum frees it
            psql("TRUNCATE product_image.blob, naive_image, pil_image CASCADE")
            runs = {c[0]: [] for c in contenders}
            for _ in range(ROUNDS):
                for label, sql, opts in contenders:
                    table = next(t for k, t in tables.items() if k in sql)
                    psql(f"VACUUM {table}")
                    runs[label].append(pgbench(sql.format(n=name), clients, SECONDS, opts))
            med = {k: statistics.median(v) for k, v in runs.items()}
            h, fu, nv, po, pl = (med[c[0]] for c in contenders)
            print(f"| {name} ({size_label(int(sizes[name]))}) | {clients} | {h:.0f} | {fu:.0f} | {nv:.0f} | {po:.0f} | {pl:.0f} "
                  f"| {h / nv:.2f}x | {h / po:.2f}x | {fu / pl:.2f}x |", flush=True)


def bench_durable():
    """Saves with fsync and synchronous_commit on (the setting users run; the
    other sections run fsync off, which hides WAL volume): product_save_image
    next to the naive INSERT, with the bytes each stores and the WAL each
    writes per save."""
    psql("ALTER SYSTEM SET fsync = on; ALTER SYSTEM SET synchronous_commit = on; SELECT pg_reload_conf();",
         db="postgres")
    images = SAVE_IMAGES[:4] + ["tiff_graphic.tif"] + SAVE_IMAGES[4:]
    sizes = dict(l.split("|") for l in psql("SELECT name, octet_length(img) FROM bench_image").split("\n") if l)
    contenders = [("ours", "SELECT product_image.product_save_image(:pid, img) FROM bench_image WHERE name = '{n}';",
                   "product_image.blob"),
                  ("naive", "SELECT naive_save(:pid, img) FROM bench_image WHERE name = '{n}';", "naive_image")]
    print(f"\n### Save with fsync on: saves per second, one client (median of {ROUNDS} interleaved runs of "
          f"{SECONDS:g} s), bytes stored and WAL written per save\n")
    print("| image | ours | naive INSERT | ours/naive | stored by ours | stored by naive | WAL/save ours | WAL/save naive |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for name in images:
            if name not in sizes:
                continue
            psql("TRUNCATE product_image.blob, naive_image CASCADE")
            runs = {c[0]: [] for c in contenders}
            wal = {c[0]: [] for c in contenders}
            for _ in range(ROUNDS):
                for label, sql, table in contenders:
                    psql(f"VACUUM {table}")
                    before = psql("SELECT pg_current_wal_lsn()").strip()
                    tps = pgbench(sql.format(n=name), 1, SECONDS)
                    written = int(psql(f"SELECT pg_current_wal_lsn() - '{before}'::pg_lsn").strip())
                    runs[label].append(tps)
                    wal[label].append(written / max(tps * SECONDS, 1))
            stored = {label: int(psql(f"SELECT coalesce(max(pg_column_size(data)), 0) FROM {table}").strip())
                      for label, _, table in contenders}
            o, n = statistics.median(runs["ours"]), statistics.median(runs["naive"])
            print(f"| {name} ({size_label(int(sizes[name]))}) | {o:.0f} | {n:.0f} | {o / n:.2f}x "
                  f"| {size_label(stored['ours'])} | {size_label(stored['naive'])} "
                  f"| {size_label(statistics.median(wal['ours']))} | {size_label(statistics.median(wal['naive']))} |",
                  flush=True)
    finally:
        psql("ALTER SYSTEM RESET fsync; ALTER SYSTEM RESET synchronous_commit; SELECT pg_reload_conf();",
             db="postgres")


def bench_formats():
    """WebP and AVIF renditions next to JPEG: bytes and SSIM at 256 px (bench/formats.py,
    skimage's SSIM against our own lossless downscale), then the time of an uncached
    rendition and of a cached one through SQL, per format, side by side."""
    photos = [os.path.join(IMG, n) for n in ("jpeg_700k.jpg", "png_4mp.png", "jpeg_5m.jpg")]
    corpus = os.path.join(ROOT, "..", "shared", "corpus")
    real = [os.path.join(corpus, p) for p in ("pillow/pillow_flower.jpg", "pillow/pillow_flower2.jpg",
                                              "pillow/pillow_hopper.jpg", "libjpeg-turbo/ljt_testorig.jpg")]
    real = [p for p in real if os.path.exists(p)]
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "tools")], check=True, stdout=subprocess.DEVNULL)
    for label, files in (("the bench's photos (gradients and noise)", photos),
                         ("photos from the shared corpus", real)):
        if not files:
            print(f"\n(no {label}: ../shared/corpus is absent)")
            continue
        out = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "formats.py"), "--repeat", "5",
                              *files], capture_output=True, text=True, check=True).stdout
        print(f"\n### Rendition formats at 256 px, {label}: bytes, encode time, SSIM "
              f"(skimage, against our lossless downscale)\n\n```")
        print(out.strip())
        print("```", flush=True)
    print(f"\n### Renditions through SQL per format, 256 px of jpeg_700k.jpg (1600x1200), "
          f"renditions per second (median of {ROUNDS}, pgbench, {SECONDS:g} s)\n")
    print("| type | uncached, 1 client | / JPEG | cached, 8 clients | / JPEG | bytes |")
    print("|---|---|---|---|---|---|")
    psql("SELECT product_image.product_save_image(3, img) FROM bench_image WHERE name = 'jpeg_700k.jpg'")
    base = {}
    for t in ("jpeg", "webp", "avif"):
        sql = f"SELECT octet_length(image) FROM product_image.product_get_image_rendition(3, 256, 256, '{t}');"
        unc = statistics.median(pgbench(sql, 1, SECONDS, "-c product_image.rendition_cache=off")
                                for _ in range(ROUNDS))
        psql(f"SELECT octet_length(image) FROM product_image.product_get_image_rendition(3, 256, 256, '{t}')")
        cac = statistics.median(pgbench(sql, 8, SECONDS) for _ in range(ROUNDS))
        size = int(psql(f"SELECT octet_length(image) FROM product_image.product_get_image_rendition(3, 256, 256, '{t}')").strip())
        base.setdefault("u", unc)
        base.setdefault("c", cac)
        print(f"| {t} | {unc:.0f} | {unc / base['u']:.2f}x | {cac:.0f} | {cac / base['c']:.2f}x | {size_label(size)} |",
              flush=True)


def timed(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def pillow_rate(paths, full, min_seconds=1.0):
    """Pillow's rate; its libtiff warnings on the corpus are silenced."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        return _pillow_rate(paths, full, min_seconds)
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def _pillow_rate(paths, full, min_seconds):
    from PIL import Image
    datas = [open(p, "rb").read() for p in paths]
    n = 0
    t = time.perf_counter()
    while True:
        for d in datas:
            try:
                im = Image.open(io.BytesIO(d))
                im.size
                if full:
                    im.load()
            except Exception:
                pass
            n += 1
        el = time.perf_counter() - t
        if el >= min_seconds:
            return n / el


def ours_rate(paths, full, min_seconds=1.0):
    tool = os.path.join(ROOT, "tools", "pi-inspect")
    flag = ["--full"] if full else []
    # process start and file reads are measured once and subtracted
    base = timed([tool] + flag + ["--repeat", "1"] + paths)
    reps = 2
    while True:
        el = timed([tool] + flag + ["--repeat", str(reps)] + paths)
        if el - base >= min_seconds or reps > 1 << 20:
            return len(paths) * (reps - 1) / max(el - base, 1e-9)
        reps *= 4


def callgrind_per_header(path):
    tool = os.path.join(ROOT, "tools", "pi-inspect")

    def ir(reps):
        out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", tool,
                              "--repeat", str(reps), path], capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", out.stderr)
        return int(m.group(1))
    return (ir(21) - ir(1)) / 20


def bench_decode():
    print("\n### Decode: standalone decoder vs Pillow 9.4, images per second (one core)\n")
    print("| image | ours header | Pillow open | ratio | ours full | Pillow load() | ratio | instructions per header (callgrind) |")
    print("|---|---|---|---|---|---|---|---|")
    rows = [(n, [os.path.join(IMG, n)]) for n in SAVE_IMAGES]
    corpus = os.environ.get("PI_CORPUS", os.path.join(ROOT, "..", "shared", "corpus"))
    if os.path.exists(os.path.join(corpus, "manifest.csv")):
        files = [l.split(",")[0] for l in open(os.path.join(corpus, "manifest.csv")).read().splitlines()[1:]]
        rows.append((f"shared corpus ({len(files)} files)", [os.path.join(corpus, f) for f in files]))
    for label, paths in rows:
        oh, ph = ours_rate(paths, False), pillow_rate(paths, False)
        of, pf = ours_rate(paths, True), pillow_rate(paths, True)
        ir = f"{callgrind_per_header(paths[0]):,.0f}" if len(paths) == 1 else "-"
        print(f"| {label} | {oh:,.0f} | {ph:,.0f} | {oh / ph:.1f}x | {of:,.1f} | {pf:,.1f} | {of / pf:.2f}x | {ir} |", flush=True)


def bench_http():
    port = 18480
    gw = os.path.join(ROOT, "gateway", "product-image-gateway")
    client = os.path.join(ROOT, "bench", "libpq_put")
    image = os.path.join(IMG, "png_64k.png")
    host, pgport = os.environ["PGHOST"], os.environ["PGPORT"]
    conninfo = f"host={host} port={pgport} dbname={DB} user=postgres"
    proc = subprocess.Popen([gw, "--listen", f"127.0.0.1:{port}", "--db-uri", conninfo, "--anon-role", "postgres",
                             "--pool", "32"], stderr=open(os.path.join(ROOT, ".run", "bench-gateway.log"), "w"))
    time.sleep(0.5)
    print(f"\n### HTTP: PUT of a {size_label(os.path.getsize(image))} PNG, requests per second (median of {ROUNDS})\n")
    print("| connections | gateway (wrk) | p50 ms | p99 ms | direct libpq | p50 ms | p99 ms | gateway/direct |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for conns in (1, 8, 16, 32):
            g, d = [], []
            for _ in range(ROUNDS):
                psql("VACUUM product_image.blob")
                out = subprocess.run(["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{SECONDS:g}s", "--latency",
                                      "-s", os.path.join(ROOT, "bench", "put.lua"), f"http://127.0.0.1:{port}/"],
                                     env=dict(os.environ, BENCH_IMAGE=image), capture_output=True, text=True, check=True).stdout
                rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
                if "Non-2xx" in out:
                    sys.exit("wrk saw non-2xx answers:\n" + out)

                def pct(p):
                    m = re.search(rf"\s{p}%\s+([0-9.]+)(us|ms|s)", out)
                    v = float(m.group(1))
                    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
                g.append((rps, pct(50), pct(99)))
                out = subprocess.run([client, conninfo, image, str(conns), f"{SECONDS:g}"], capture_output=True,
                                     text=True, check=True).stdout.split()
                if out[3] != "0":
                    sys.exit(f"libpq_put saw {out[3]} errors")
                d.append((float(out[0]), float(out[1]), float(out[2])))
            gm = sorted(g)[len(g) // 2]
            dm = sorted(d)[len(d) // 2]
            print(f"| {conns} | {gm[0]:.0f} | {gm[1]:.2f} | {gm[2]:.2f} | {dm[0]:.0f} | {dm[1]:.2f} | {dm[2]:.2f} | {gm[0] / dm[0]:.2f}x |", flush=True)
    finally:
        proc.terminate()
        proc.wait()


def wrk_get(url, conns):
    """Requests per second of 2xx answers, and how many were not 2xx (a 503 past the render slots)."""
    out = subprocess.run(["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{SECONDS:g}s", url],
                         capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = int(re.search(r"Non-2xx or 3xx responses: (\d+)", out).group(1)) if "Non-2xx" in out else 0
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    return rps * (total - bad) / total if total else 0.0, bad


def bench_reads():
    """GET of stored originals and a cached rendition through the gateway, side by side
    with nginx (Debian's nginx-light, sendfile on) serving the same bytes from disk."""
    port, nport = 18482, 18483
    gw = os.path.join(ROOT, "gateway", "product-image-gateway")
    host, pgport = os.environ["PGHOST"], os.environ["PGPORT"]
    conninfo = f"host={host} port={pgport} dbname={DB} user=postgres"
    static = os.path.join(ROOT, ".run", "bench-static")
    os.makedirs(os.path.join(static, "logs"), exist_ok=True)
    cases = [("43 KB PNG", "png_40k.png", 1, ""), ("5 MB JPEG", "jpeg_5m.jpg", 2, ""),
             ("256 px rendition, cached", "jpeg_700k.jpg", 3, "?w=256&h=256")]
    for _, name, pid, _ in cases:
        psql(f"SELECT product_image.product_save_image({pid}, img) FROM bench_image WHERE name = '{name}'")
    conf = os.path.join(static, "nginx.conf")
    open(conf, "w").write(f"""daemon off; worker_processes 2; pid {static}/nginx.pid;
error_log {static}/logs/error.log; events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  server {{ listen 127.0.0.1:{nport}; root {static}; }} }}
""")
    proc = subprocess.Popen([gw, "--listen", f"127.0.0.1:{port}", "--db-uri", conninfo, "--anon-role", "postgres",
                             "--pool", "32"], stderr=open(os.path.join(ROOT, ".run", "bench-gateway.log"), "w"))
    nginx = subprocess.Popen(["nginx", "-c", conf, "-p", static], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        # the rendition's bytes, for nginx to serve as a file too (and the gateway's cache filled)
        for label, name, pid, query in cases:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/Product/{pid}/Image{query}") as r:
                open(os.path.join(static, f"p{pid}"), "wb").write(r.read())
        print(f"\n### Reads: GET through the gateway vs nginx serving the same bytes, requests per second "
              f"(median of {ROUNDS}, wrk, {SECONDS:g} s)\n")
        print("(\"SELECT data\": the database alone reading the same row, a prepared plain SELECT with a "
              "binary result over libpq from as many threads, `bench/libpq_put.c`: what any read "
              "authorized by PostgreSQL is bounded by.)\n")
        print("| image | connections | gateway (2xx/s) | gateway non-2xx | nginx | gateway/nginx | SELECT data | gateway/SELECT data |")
        print("|---|---|---|---|---|---|---|---|")
        for label, name, pid, query in cases:
            for conns in (1, 8, 32):
                g = sorted(wrk_get(f"http://127.0.0.1:{port}/api/v1/Product/{pid}/Image{query}", conns)
                           for _ in range(ROUNDS))[ROUNDS // 2]
                n = sorted(wrk_get(f"http://127.0.0.1:{nport}/p{pid}", conns) for _ in range(ROUNDS))[ROUNDS // 2]
                if query:
                    sel = "-", "-"
                else:
                    d = sorted(float(subprocess.run([os.path.join(ROOT, "bench", "libpq_put"), conninfo, "-",
                                                     str(conns), f"{SECONDS:g}", str(pid)], capture_output=True,
                                                    text=True, check=True).stdout.split()[0])
                               for _ in range(ROUNDS))[ROUNDS // 2]
                    sel = f"{d:.0f}", f"{g[0] / d:.2f}x"
                print(f"| {label} | {conns} | {g[0]:.0f} | {g[1]} | {n[0]:.0f} | {g[0] / n[0]:.2f}x | {sel[0]} | {sel[1]} |",
                      flush=True)
    finally:
        proc.terminate()
        nginx.terminate()
        proc.wait()
        nginx.wait()
    print(f"\n### Reads in SQL: product_get_image vs a plain SELECT of the column, transactions per second "
          f"(pgbench, 8 clients, median of {ROUNDS})\n")
    print("| image | product_get_image | plain SELECT data | ratio |")
    print("|---|---|---|---|")
    for label, name, pid, query in cases[:2]:
        ours = sorted(pgbench(f"SELECT product_image.product_get_image({pid});", 8, SECONDS) for _ in range(ROUNDS))
        plain = sorted(pgbench(f"SELECT data FROM product_image.blob WHERE product_id = {pid};", 8, SECONDS)
                       for _ in range(ROUNDS))
        o, p = ours[ROUNDS // 2], plain[ROUNDS // 2]
        print(f"| {label} | {o:.0f} | {p:.0f} | {o / p:.2f}x |", flush=True)


def bench_scaling():
    print("\n### Scaling with size: one client, header mode and full mode\n")
    print("| image | bytes | header ms/save | full ms/save | ms per MB (header) | peak private memory (header) | peak/size | instructions per header (callgrind) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in SCALE_IMAGES:
        psql("TRUNCATE product_image.blob CASCADE")
        size = os.path.getsize(os.path.join(IMG, name))
        n = max(5, int(2e8 / size))
        lat = {}
        for mode in ("header", "full"):
            with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
                f.write(f"\\set pid random(1, 1000)\nSELECT product_image.product_save_image(:pid, img) FROM bench_image WHERE name = '{name}';\n")
                script = f.name
            out = subprocess.run([f"{PGBIN}/pgbench", "-n", "-c", "1", "-t", str(n if mode == "header" else max(3, n // 4)),
                                  "-f", script, DB], env=dict(os.environ, PGOPTIONS=f"-c product_image.validate={mode}"),
                                 capture_output=True, text=True, check=True).stdout
            os.unlink(script)
            lat[mode] = float(re.search(r"latency average = ([0-9.]+) ms", out).group(1))
        # a fresh backend: private memory = VmHWM minus what is shared (shmem, file) after the saves
        mem = psql(f"""
SELECT product_image.product_save_image(g, img) FROM bench_image, generate_series(1, 3) g WHERE name = '{name}' \\g /dev/null
SELECT (regexp_match(s, 'VmHWM:\\s+(\\d+)'))[1]::bigint - (regexp_match(s, 'RssShmem:\\s+(\\d+)'))[1]::bigint
       - (regexp_match(s, 'RssFile:\\s+(\\d+)'))[1]::bigint
  FROM pg_read_file('/proc/self/status') s;
""").strip().splitlines()[-1]
        peak = int(mem) * 1024
        ir = callgrind_per_header(os.path.join(IMG, name))
        print(f"| {name} | {size_label(size)} | {lat['header']:.2f} | {lat['full']:.1f} | {lat['header'] / (size / 1e6):.2f} "
              f"| {peak / 1e6:.1f} MB | {peak / size:.2f}x | {ir:,.0f} |", flush=True)


def _pillow_thumb_ms(path, box, reps):
    import io
    from PIL import Image
    data = open(path, "rb").read()
    fmt = "JPEG" if path.endswith(".jpg") else "PNG"
    times = []
    for _ in range(reps + 1):
        t = time.perf_counter()
        im = Image.open(io.BytesIO(data))
        im.draft("RGB", (box, box))
        im.thumbnail((box, box))
        out = io.BytesIO()
        im.save(out, fmt, quality=85, compress_level=1)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times[1:])


def bench_thumbs():
    """256-pixel thumbnails: in-process C (ours and libjpeg-turbo's scaled decode, the
    floor), Pillow in-process, vipsthumbnail as a process; then through SQL, cached
    against uncached against a plain bytea read."""
    box, reps = 256, max(5, ROUNDS * 5)
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "src/decode"), "libpidecode.a"], check=True)
    subprocess.run(["cc", "-O2", "-I", os.path.join(ROOT, "src/decode"), "-o", os.path.join(ROOT, "bench/thumb"),
                    os.path.join(ROOT, "bench/thumb.c"), os.path.join(ROOT, "src/decode/libpidecode.a"),
                    *decode_libs()], check=True)
    print(f"\n### Thumbnails: {box} px box, ms per image (median of {reps}; lower is better)\n")
    print("| image | ours (in-process) | libjpeg-turbo scaled decode alone | Pillow draft()+thumbnail() | vipsthumbnail (process) | ours / floor | Pillow / ours | vips / ours |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("jpeg_5m.jpg", "png_4mp.png"):
        path = os.path.join(IMG, name)
        out = subprocess.run([os.path.join(ROOT, "bench/thumb"), str(box), str(reps), path],
                             capture_output=True, text=True, check=True).stdout.split("\t")
        ours, floor = float(out[1]), out[2].strip()
        pil = _pillow_thumb_ms(path, box, reps)
        vips = statistics.median(timed(["vipsthumbnail", path, "-s", str(box), "-o", "/tmp/pi_vips_%s.jpg"])
                                 for _ in range(reps)) * 1e3
        fl = f"{float(floor):.1f}" if floor != "-" else "-"
        ratio = f"{ours / float(floor):.2f}x" if floor != "-" else "-"
        print(f"| {name} ({size_label(os.path.getsize(path))}) | {ours:.1f} | {fl} | {pil:.1f} | {vips:.1f} "
              f"| {ratio} | {pil / ours:.2f}x | {vips / ours:.2f}x |", flush=True)

    psql("""TRUNCATE product_image.blob CASCADE;
SELECT product_image.product_save_image(1, img) FROM bench_image WHERE name = 'jpeg_5m.jpg';
SELECT product_image.product_save_image(2, img) FROM bench_image WHERE name = 'png_4mp.png';
CREATE TABLE IF NOT EXISTS plain_thumb (id int PRIMARY KEY, data bytea);
ALTER TABLE plain_thumb ALTER COLUMN data SET STORAGE EXTERNAL;  -- as the cache stores them
TRUNCATE plain_thumb;
INSERT INTO plain_thumb SELECT p, product_image.product_get_image(p, 256, 256, NULL, NULL) FROM (VALUES (1), (2)) v(p);
""")
    print(f"\n### Thumbnails through SQL: requests per second, 1 client (median of {ROUNDS} runs of {SECONDS:g} s)\n")
    print("| image | uncached (rendition_cache off) | cached | plain bytea read of the same thumbnail | cached / uncached | cached / plain |")
    print("|---|---|---|---|---|---|")
    for pid, name in ((1, "jpeg_5m.jpg"), (2, "png_4mp.png")):
        runs = {"off": [], "on": [], "plain": []}
        for _ in range(ROUNDS):
            # every contender sends the thumbnail's bytes to the client
            runs["off"].append(pgbench(f"SELECT product_image.product_get_image({pid}, 256, 256, NULL, NULL);",
                                       1, SECONDS, "-c product_image.rendition_cache=off"))
            runs["on"].append(pgbench(f"SELECT product_image.product_get_image({pid}, 256, 256, NULL, NULL);",
                                      1, SECONDS))
            runs["plain"].append(pgbench(f"SELECT data FROM plain_thumb WHERE id = {pid};", 1, SECONDS))
        off, on, plain = (statistics.median(runs[k]) for k in ("off", "on", "plain"))
        print(f"| {name} | {off:.0f} | {on:.0f} | {plain:.0f} | {on / off:.0f}x | {on / plain:.2f}x |", flush=True)


def main():
    print(f"Benchmarks, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, PostgreSQL "
          + psql("SHOW server_version", db="postgres").strip()
          + f", fsync off (private cluster), {SECONDS:g} s per run")
    setup()
    for s in SECTIONS:
        {"save": bench_save, "decode": bench_decode, "http": bench_http, "scaling": bench_scaling,
         "thumbs": bench_thumbs, "reads": bench_reads, "durable": bench_durable,
         "formats": bench_formats}[s]()


if __name__ == "__main__":
    main()
