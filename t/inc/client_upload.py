#!/usr/bin/env python3
"""One file uploaded the way the dandi command-line client (dandi-cli 0.76,
dandi/files/bases.py iter_upload) does it, step by step, with each check the
client makes, so a test fails where the real client would:

  token check    GET  {api}/auth/token                 2xx
  initialize     POST {api}/uploads/initialize/        409 + Location = blob exists
                 the part count and each part's size must match the dandi-etag plan
  parts          PUT  each upload_url (no credentials)  ETag header = md5 of the part
  complete       POST {api}/uploads/{id}/complete/      complete_url, body
  finish         POST complete_url with body (no credentials), parse the XML:
                 an <ETag> (any namespace), quotes stripped, must equal the dandi-etag
  validate       POST {api}/uploads/{id}/validate/     blob_id
  asset          POST {api}/dandisets/{id}/versions/draft/assets/ {metadata, blob_id}

Like the client, 500/502/503/504 answers are retried and any other non-2xx
answer is an error. Python's standard library only (Debian's python3).

  client_upload.py API_URL TOKEN DANDISET FILE ASSET_PATH

API_URL is services.api.url (e.g. http://127.0.0.1:8080/api). Prints one
JSON line (asset_id, blob_id, etag, parts, complete_url, final_etag) and
exits 0, or prints the client's error message and exits 1.
"""
import hashlib
import json
import re
import sys
import time
import urllib.error
import urllib.request
from xml.etree.ElementTree import fromstring

MiB = 1024 * 1024
RETRY = (500, 502, 503, 504)


class HTTPError(Exception):
    def __init__(self, status, body, headers):
        super().__init__(f"Error {status}: {body[:1024]!r}")
        self.status, self.body, self.headers = status, body, headers


def request(method, url, body=None, headers=None):
    """(status, body bytes, headers); retries what the client retries."""
    for attempt in range(6):
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            data = e.read()
            if e.code in RETRY and attempt < 5:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise HTTPError(e.code, data.decode("utf-8", "replace"), e.headers)


def part_plan(size):
    """dandischema's DandiETag part sizes for a file of size bytes."""
    part = 64 * MiB
    if -(-size // part) >= 10000:
        part = -(-size // 10000)
    sizes, left = [], size
    while left > 0:
        sizes.append(min(part, left))
        left -= sizes[-1]
    return sizes


def main():
    api, token, dandiset, path, asset_path = sys.argv[1:6]
    auth = {"Authorization": f"token {token}", "User-Agent": "dandi/0.76 (test stand-in)"}
    jsonh = dict(auth, **{"accept": "application/json", "Content-Type": "application/json"})

    def api_call(method, p, obj=None):
        body = None if obj is None else json.dumps(obj).encode()
        st, data, h = request(method, api + p, body, jsonh)
        return json.loads(data) if data.strip() else None

    request("GET", api + "/auth/token", None, auth)
    with open(path, "rb") as f:
        content = f.read()
    sizes = part_plan(len(content))
    md5s, off = [], 0
    for s in sizes:
        md5s.append(hashlib.md5(content[off:off + s]).digest())
        off += s
    filetag = hashlib.md5(b"".join(md5s)).hexdigest() + f"-{len(sizes)}"

    blob_id = None
    try:
        resp = api_call("POST", "/uploads/initialize/", {
            "contentSize": len(content),
            "digest": {"algorithm": "dandi:dandi-etag", "value": filetag},
            "dandiset": dandiset,
        })
    except HTTPError as e:
        if e.status != 409:
            raise
        blob_id = e.headers["Location"]
    out = {"etag": filetag, "parts": len(sizes)}
    if blob_id is None:
        upload_id, parts = resp["upload_id"], resp["parts"]
        if len(parts) != len(sizes):
            raise RuntimeError("Server and client disagree on number of parts for upload;"
                               f" server says {len(parts)}, client says {len(sizes)}")
        parts_out = []
        for part in parts:
            n = part["part_number"]
            if part["size"] != sizes[n - 1]:
                raise RuntimeError(f"Server and client disagree on size of upload part {n};"
                                   f" server says {part['size']}, client says {sizes[n - 1]}")
            start = sum(sizes[:n - 1])
            # The storage session sends no credentials and no content type.
            st, data, h = request("PUT", part["upload_url"], content[start:start + part["size"]],
                                  {"User-Agent": auth["User-Agent"]})
            server_etag = h["ETag"].strip('"')
            if server_etag != md5s[n - 1].hex():
                raise RuntimeError(f"Server and client disagree on ETag of upload part {n};"
                                   f" server says {server_etag}, client says {md5s[n - 1].hex()}")
            parts_out.append({"part_number": n, "size": part["size"], "etag": server_etag})
        resp = api_call("POST", f"/uploads/{upload_id}/complete/", {"parts": parts_out})
        out["complete_url"] = resp["complete_url"]
        st, data, h = request("POST", resp["complete_url"], resp["body"].encode(),
                              {"User-Agent": auth["User-Agent"]})
        rxml = fromstring(data.decode())
        m = re.match(r"\{.+?\}", rxml.tag)
        ns = m.group(0) if m else ""
        final_etag = rxml.findtext(f"{ns}ETag")
        out["final_etag"] = final_etag
        if final_etag is not None:
            final_etag = final_etag.strip('"')
            if final_etag != filetag:
                raise RuntimeError("Server and client disagree on final ETag of uploaded file;"
                                   f" server says {final_etag}, client says {filetag}")
        blob_id = api_call("POST", f"/uploads/{upload_id}/validate/")["blob_id"]
    out["blob_id"] = blob_id
    metadata = {
        "schemaKey": "Asset",
        "path": asset_path,
        "contentSize": len(content),
        "encodingFormat": "application/x-nwb" if asset_path.endswith(".nwb") else "application/octet-stream",
        "digest": {"dandi:dandi-etag": filetag},
        "schemaVersion": "0.6.9",
    }
    a = api_call("POST", f"/dandisets/{dandiset}/versions/draft/assets/",
                 {"metadata": metadata, "blob_id": blob_id})
    out["asset_id"] = a["asset_id"]
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the client's own words, for the test to show
        print(f"{type(e).__name__}: {e}")
        sys.exit(1)
