#!/usr/bin/python3
"""The OpenAPI document against the real gateway.

usage: openapi_contract.py OPENAPI_JSON LOG_DIRS BASE_URL BARE_URL USER PASSWORD PNG TOKEN

1. Live answers validate against the document: bodies against their JSON
   schemas (jsonschema, 2020-12), XML roots by name and namespace, documented
   headers present.  BASE_URL: a gateway whose anonymous role reads, with
   sessions, JWT and a small --max-body; BARE_URL: one without an anonymous
   role or sessions; TOKEN: a Bearer token of a role with no rights.
2. Every (path, method, status) the HTTP test harnesses and these live
   requests produced (their gateways' access logs, in LOG_DIRS separated by
   colons) is described, and every described one was produced, but the
   answers any route may give (components/responses: a malformed request,
   a transfer coding we lack, the database unavailable), which are checked
   where they are produced.
Prints "ok NAME" or "FAIL: NAME ..." lines.
"""
import glob
import json
import re
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import jsonschema

doc_path, log_dirs, base, bare, user, password, png_path, nobody_token = sys.argv[1:9]
doc = json.load(open(doc_path))
METHODS = ("get", "head", "put", "post", "delete", "options")
failed = 0


def check(name, cond, detail=""):
    global failed
    if cond:
        print(f"ok {name}")
    else:
        failed += 1
        print(f"FAIL: {name} {detail}")


def template_regex(path):
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("^" + "-?[0-9]+".join(re.escape(p) for p in parts) + "$", re.IGNORECASE)


routes = [(p, template_regex(p)) for p in doc["paths"]]


def route_of(path):
    for p, rx in routes:
        if rx.match(path):
            return p
    return None


# ---- 1. live answers against their schemas ----
def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def schema_of(path, method, status, ctype):
    resp = resolve(doc["paths"][path][method]["responses"][status])
    content = resp.get("content", {})
    media = content.get(ctype.split(";")[0].strip())
    return resp, (resolve(media["schema"]) if media else None), media is not None


def validate(name, schema, body):
    # the whole document as the resolution root, so $refs inside schemas resolve
    full = dict(schema)
    full["components"] = doc["components"]
    try:
        jsonschema.Draft202012Validator(full).validate(body)
        check(name, True)
    except jsonschema.ValidationError as e:
        check(name, False, f"{e.message} in {json.dumps(body)[:300]}")


def request(method, path, body=None, headers=None, at=None):
    req = urllib.request.Request((at or base) + path, data=body, method=method.upper(), headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def live(name, method, template, path, want, body=None, headers=None, accept="application/json", at=None):
    h = {"Accept": accept, **(headers or {})}
    status, rh, data = request(method, path, body, h, at)
    check(f"{name}_status", status == want, f"{status} != {want}: {data[:200]!r}")
    resp, schema, has = schema_of(template, method, str(status), rh.get("Content-Type", ""))
    for header in resp.get("headers", {}):
        if header not in ("Set-Cookie",):
            check(f"{name}_header_{header}", header in rh or header.lower() in {k.lower() for k in rh},
                  f"documented header missing: {rh}")
    if not data or status in (204, 304):
        return status, rh, data
    check(f"{name}_content_type_described", has, rh.get("Content-Type"))
    ctype = rh.get("Content-Type", "")
    if "json" in ctype and schema is not None:
        validate(f"{name}_body", schema, json.loads(data))
    elif "xml" in ctype and schema is not None:
        root = ET.fromstring(data)
        xml = schema.get("xml", {})
        want_tag = ("{%s}%s" % (xml["namespace"], xml["name"])) if "namespace" in xml else xml.get("name")
        check(f"{name}_xml_root", want_tag is None or root.tag == want_tag, f"{root.tag} != {want_tag}")
        if schema.get("type") == "object" and "properties" in schema:
            names = [c.tag.split("}")[-1] for c in root]
            check(f"{name}_xml_fields", set(names) <= set(schema["properties"]) and
                  set(schema.get("required", [])) <= set(names), names)
    return status, rh, data


IMG = "/api/v1/Product/{productId}/Image"
INFO = "/api/v1/Product/{productId}/ImageInfo"
png = open(png_path, "rb").read()
import base64
basic = {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
live("put_image", "put", IMG, "/api/v1/Product/3/Image", 200, png, {**basic, "Content-Type": "image/png"})
live("put_image_xml", "put", IMG, "/api/v1/Product/3/Image", 200, png, {**basic, "Content-Type": "image/png"},
     accept="application/xml")
live("get_image", "get", IMG, "/api/v1/Product/3/Image", 200, accept="*/*")
live("get_rendition", "get", IMG, "/api/v1/Product/3/Image?w=8&type=PNG", 200, accept="*/*")
live("get_image_404", "get", IMG, "/api/v1/Product/4/Image", 404)
live("get_image_400", "get", IMG, "/api/v1/Product/3/Image?w=x", 400)
live("get_info", "get", INFO, "/api/v1/Product/3/ImageInfo", 200)
live("get_info_xml", "get", INFO, "/api/v1/Product/3/ImageInfo", 200, accept="application/xml")
live("get_info_404_xml", "get", INFO, "/api/v1/Product/4/ImageInfo", 404, accept="application/xml")
live("put_info", "put", INFO, "/api/v1/Product/3/ImageInfo", 200, b'{"Description": "contract"}',
     {**basic, "Content-Type": "application/json"})
live("put_info_400", "put", INFO, "/api/v1/Product/3/ImageInfo", 400, b'[1]', {**basic, "Content-Type": "application/json"})
live("put_info_412", "put", INFO, "/api/v1/Product/3/ImageInfo", 412, b'{}',
     {**basic, "Content-Type": "application/json", "If-Match": '"0"'})
live("put_image_415", "put", IMG, "/api/v1/Product/3/Image", 415, b"%PDF-1.4\n", {**basic})
live("whoami", "get", "/api/v1/Session", "/api/v1/Session", 200)
_, rh, data = live("login", "post", "/api/v1/Session", "/api/v1/Session", 200,
                   json.dumps({"username": user, "password": password}).encode(), {"Content-Type": "application/json"})
ticket = json.loads(data)["ticket"]
live("login_401", "post", "/api/v1/Session", "/api/v1/Session", 401,
     json.dumps({"username": user, "password": "wrong"}).encode(), {"Content-Type": "application/json"})
live("logout", "delete", "/api/v1/Session", "/api/v1/Session", 204, None, {"Authorization": f"SoTicket {ticket}"})
live("logout_401", "delete", "/api/v1/Session", "/api/v1/Session", 401, None, {"Authorization": f"SoTicket {ticket}"})
live("delete_image", "delete", IMG, "/api/v1/Product/3/Image", 204, None, basic)
live("health", "get", "/health", "/health", 200)
live("openapi", "get", "/openapi.json", "/openapi.json", 200)
live("page", "get", "/", "/", 200, accept="text/html")
nobody = {"Authorization": f"Bearer {nobody_token}"}
jsonct = {"Content-Type": "application/json"}
# the statuses the other harnesses do not produce for every operation
live("delete_401", "delete", IMG, "/api/v1/Product/3/Image", 401)
live("post_401", "post", IMG, "/api/v1/Product/3/Image", 401, png)
live("put_info_401", "put", INFO, "/api/v1/Product/3/ImageInfo", 401, b"{}", jsonct)
live("get_image_403", "get", IMG, "/api/v1/Product/3/Image", 403, headers=nobody, accept="*/*")
live("get_info_403", "get", INFO, "/api/v1/Product/3/ImageInfo", 403, headers=nobody)
live("put_info_403", "put", INFO, "/api/v1/Product/3/ImageInfo", 403, b"{}", {**nobody, **jsonct})
live("post_image", "post", IMG, "/api/v1/Product/3/Image", 200, png, basic)
live("post_400", "post", IMG, "/api/v1/Product/3/Image", 400, b"", basic)
live("post_404", "post", IMG, "/api/v1/Product/99999/Image", 404, png, basic)
live("post_406", "post", IMG, "/api/v1/Product/3/Image", 406, png, basic, accept="text/plain")
live("post_412", "post", IMG, "/api/v1/Product/3/Image", 412, png, {**basic, "If-Match": '"0"'})
live("post_413", "post", IMG, "/api/v1/Product/3/Image", 413, b"\0" * 200000, basic)
live("post_415", "post", IMG, "/api/v1/Product/3/Image", 415, b"%PDF-1.4\n", basic)
live("put_info_406", "put", INFO, "/api/v1/Product/3/ImageInfo", 406, b"{}", {**basic, **jsonct}, accept="text/plain")
live("put_info_413", "put", INFO, "/api/v1/Product/3/ImageInfo", 413, b" " * 200000, {**basic, **jsonct})
live("whoami_401", "get", "/api/v1/Session", "/api/v1/Session", 401, at=bare)
live("login_501", "post", "/api/v1/Session", "/api/v1/Session", 501,
     json.dumps({"username": user, "password": password}).encode(), jsonct, at=bare)
live("page_js", "get", "/page.js", "/page.js", 200, accept="*/*")
live("page_css", "get", "/page.css", "/page.css", 200, accept="*/*")
status, _, served = request("GET", "/openapi.json")
check("openapi_served_as_is", served == open(doc_path, "rb").read())
# ---- 2. what the tests produced, against what is described ----
described = set()
generic = set()
for p, item in doc["paths"].items():
    for m in METHODS:
        if m in item:
            for status, resp in item[m]["responses"].items():
                described.add((p, m, status))
                if "$ref" in resp:
                    generic.add((p, m, status))
seen = set()
undescribed = {}
line_rx = re.compile(r"^([A-Z]+) (\S+) (\d{3}) \d+ \d+ ")
for f in [f for d in log_dirs.split(":") for f in glob.glob(f"{d}/*.log")]:
    for line in open(f, errors="replace"):
        m = line_rx.match(line)
        if not m:
            continue
        method, path, status = m.group(1).lower(), m.group(2), m.group(3)
        p = route_of(path)
        if p is None or status == "000":
            continue  # no route of ours (404 PGRST125), or never answered
        if method not in doc["paths"][p]:
            continue  # a method the route does not have (405 with Allow)
        key = (p, method, status)
        seen.add(key)
        if key not in described:
            undescribed.setdefault(key, f"{f.split('/')[-1]}: {line.strip()}")
for key, example in sorted(undescribed.items()):
    check(f"described {key[1].upper()} {key[0]} {key[2]}", False, f"produced by the tests but not described ({example})")
if log_dirs.startswith("-"):
    print("openapi: without the HTTP harnesses' access logs (PI_ACCESS_LOG_DIR) only the first direction is checked")
else:
    for key in sorted(described - seen - generic):
        check(f"produced {key[1].upper()} {key[0]} {key[2]}", False, "described but no test produced it")
    check("log_coverage", len(seen) > 50, f"{len(seen)} (path, method, status) seen")



print(f"contract: {failed} failed")
sys.exit(1 if failed else 0)
