#!/usr/bin/python3
"""Make an HS256 JWT for tests.  usage: jwt.py SECRET CLAIMS_JSON [ALG]"""
import base64
import hashlib
import hmac
import json
import sys


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


secret, claims = sys.argv[1], json.loads(sys.argv[2])
alg = sys.argv[3] if len(sys.argv) > 3 else "HS256"
head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
body = b64(json.dumps(claims).encode())
signing = f"{head}.{body}".encode()
if alg == "none":
    print(f"{head}.{body}.")
else:
    print(f"{head}.{body}.{b64(hmac.new(secret.encode(), signing, hashlib.sha256).digest())}")
