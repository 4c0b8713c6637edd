#!/usr/bin/env python3
"""The client side of contrib/soak/run (Python's standard library only).

  soak.py upload API TOKEN DANDISET N PREFIX
      uploads N small files the way dandi-cli does (initialize, the part PUT
      to S3, complete, the complete_url POST, validate, the asset), 8 at once;
      prints {"uploaded": n, "failed": n}
  soak.py load API TOKEN SECONDS CLIENTS OUT BIG BLOB
      CLIENTS clients, each from its own loopback address (127.0.1.1, ...),
      each with a dandiset of its own, for SECONDS on a read/write mix (reads
      of lists, details, asset pages of the dandiset BIG and asset metadata,
      searches; writes: draft metadata edits, new assets of the blob BLOB,
      new dandisets, uploads through S3). Every acknowledged write goes to
      OUT (JSON); OUT.started appears when the clients start. Prints a
      summary, a per-second timeline of errors and what they said.
  soak.py verify API TOKEN OUT
      checks that every acknowledged write of OUT is there; prints
      {"checked": n, "lost": [...]}
  soak.py readable S3_URL KEY...
      how many of the objects anonymous clients may read (HEAD 200)

API is the origin (http://127.0.0.1:PORT), without /api.
"""
import hashlib
import http.client
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor


class Client:
    """One keep-alive HTTP connection from a given source address."""

    def __init__(self, origin, token, source=None):
        u = urllib.parse.urlsplit(origin)
        self.host, self.port, self.source = u.hostname, u.port, source
        self.headers = {"Authorization": f"token {token}", "Accept": "application/json",
                        "User-Agent": "dandi-soak/1"}
        self.conn = None

    def request(self, method, path, obj=None, body=None, headers=None):
        """(status, parsed JSON or bytes, headers); status 0: no answer."""
        h = dict(self.headers, **(headers or {}))
        if obj is not None:
            body = json.dumps(obj).encode()
            h["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        self.host, self.port, timeout=60,
                        source_address=(self.source, 0) if self.source else None)
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                try:
                    data = json.loads(data) if "json" in (r.getheader("Content-Type") or "") else data
                except ValueError:
                    pass
                return r.status, data, r
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 2:	# a kept-alive connection may have been closed: once more
                    return 0, b"", None
        return 0, b"", None


def raw(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers
    except OSError as e:
        return 0, str(e).encode(), {}


def upload_one(c, origin, dandiset, path, content):
    """dandi-cli's upload of one small file; returns (ok, the asset id or
    the step that failed, status, the failed answer's body)."""
    md5 = hashlib.md5(content).digest()
    etag = hashlib.md5(md5).hexdigest() + "-1"
    st, r, _ = c.request("POST", "/api/uploads/initialize/", {
        "contentSize": len(content), "dandiset": dandiset,
        "digest": {"algorithm": "dandi:dandi-etag", "value": etag}})
    if st != 200:	# 409 too: random bytes are never there already
        return False, "initialize", st, r
    part = r["parts"][0]
    st, body, h = raw("PUT", part["upload_url"], content, {"User-Agent": "dandi-soak/1"})
    if st != 200:
        return False, "part", st, {"detail": f"S3 part PUT: {body[:60]!r}"}
    parts = [{"part_number": 1, "size": len(content), "etag": (h.get("ETag") or "").strip('"')}]
    st, r2, _ = c.request("POST", f"/api/uploads/{r['upload_id']}/complete/", {"parts": parts})
    if st != 200:
        return False, "complete", st, r2
    st, body, _ = raw("POST", r2["complete_url"], r2["body"].encode(), {"User-Agent": "dandi-soak/1"})
    if st != 200:
        return False, "complete_url", st, {"detail": f"complete_url: {body[:60]!r}"}
    st, v, _ = c.request("POST", f"/api/uploads/{r['upload_id']}/validate/")
    if st != 200:
        return False, "validate", st, v
    st, a, _ = c.request("POST", f"/api/dandisets/{dandiset}/versions/draft/assets/", {
        "blob_id": v["blob_id"], "metadata": {
            "schemaKey": "Asset", "path": path, "contentSize": len(content),
            "encodingFormat": "application/octet-stream", "digest": {"dandi:dandi-etag": etag}}})
    if st != 200:
        return False, "asset", st, a
    return True, a["asset_id"], st, a


def cmd_upload(origin, token, dandiset, n, prefix):
    local = threading.local()

    def one(i):
        if not hasattr(local, "c"):
            local.c = Client(origin, token)
        ok, _, _, _ = upload_one(local.c, origin, dandiset, f"{prefix}/f{i:05d}.dat",
                              random.randbytes(100 + i))
        return ok

    with ThreadPoolExecutor(max_workers=8) as pool:
        res = list(pool.map(one, range(n)))
    print(json.dumps({"uploaded": sum(res), "failed": len(res) - sum(res)}))


def cmd_load(origin, token, seconds, nclients, out, big, blob):
    seconds, nclients = float(seconds), int(nclients)
    setup = Client(origin, token)
    # The big dandiset's asset ids, for metadata reads.
    st, page, _ = setup.request("GET", f"/api/dandisets/{big}/versions/draft/assets/?page_size=1000")
    asset_ids = [a["asset_id"] for a in page["results"]]
    big_pages = (page["count"] + 99) // 100
    lock = threading.Lock()
    status, timeline, acked = {}, {}, {"dandisets": [], "assets": [], "edits": {}, "uploads": []}
    ops, why = {}, {}

    def tally(op, st, body=None):
        sec = int(time.monotonic() - t0)
        with lock:
            status[st] = status.get(st, 0) + 1
            o = ops.setdefault(op, {})
            o[st] = o.get(st, 0) + 1
            if st == 0 or st >= 500 or st == 429:
                timeline.setdefault(sec, {})
                timeline[sec][st] = timeline[sec].get(st, 0) + 1
                # What the error said: the API's or nginx's JSON detail.
                d = body.get("detail") if isinstance(body, dict) else None
                k = f"{st} {d or ('no answer' if st == 0 else 'not JSON')}"[:90]
                why[k] = why.get(k, 0) + 1

    def client(i):
        rnd = random.Random(i)
        c = Client(origin, token, f"127.0.1.{i + 1}")
        # Its own dandiset first, tried again as a client would.
        while True:
            st, d, _ = c.request("POST", "/api/dandisets/", {"name": f"soak client {i}", "metadata": {}})
            tally("setup", st, d)
            if st == 200:
                break
            if time.monotonic() - t0 >= seconds:
                return
            time.sleep(0.5)
        own = d["identifier"]
        with lock:
            acked["dandisets"].append([own, f"soak client {i}"])
        edits = 0
        k = 0
        while time.monotonic() - t0 < seconds:
            k += 1
            x = rnd.random()
            if x < 0.25:
                order = rnd.choice(["id", "-id", "name", "-modified"])
                op, (st, body, _) = "list", c.request("GET", f"/api/dandisets/?page_size=25&ordering={order}")
            elif x < 0.40:
                op, (st, body, _) = "detail", c.request("GET", f"/api/dandisets/{own}/versions/draft/")
            elif x < 0.55:
                op, (st, body, _) = "asset page", c.request(
                    "GET", f"/api/dandisets/{big}/versions/draft/assets/?page={rnd.randint(1, big_pages)}")
            elif x < 0.70:
                op, (st, body, _) = "asset metadata", c.request(
                    "GET", f"/api/dandisets/{big}/versions/draft/assets/{rnd.choice(asset_ids)}/")
            elif x < 0.78:
                op, (st, body, _) = "search", c.request("GET", "/api/dandisets/?search=soak")
            elif x < 0.82:
                op, (st, body, _) = "info", c.request("GET", "/api/info/")
            elif x < 0.90:
                # A metadata edit: the description numbers it; the last
                # acknowledged number must be what the archive holds.
                edits += 1
                op = "edit"
                st, body, _ = c.request("PUT", f"/api/dandisets/{own}/versions/draft/", {
                    "name": f"soak client {i}", "metadata": {"description": f"edit {edits}"}})
                with lock:
                    e = acked["edits"].setdefault(own, {"acked": 0, "sent": 0})
                    e["sent"] = edits
                    if st == 200:
                        e["acked"] = edits
            elif x < 0.96:
                op = "new asset"
                path = f"c{i}/a{k}.nwb"
                st, body, _ = c.request("POST", f"/api/dandisets/{own}/versions/draft/assets/", {
                    "blob_id": blob, "metadata": {"schemaKey": "Asset", "path": path,
                                                  "encodingFormat": "application/x-nwb"}})
                if st == 200:
                    with lock:
                        acked["assets"].append([own, body["asset_id"], path])
            elif x < 0.98:
                op = "new dandiset"
                name = f"soak client {i} number {k}"
                st, body, _ = c.request("POST", "/api/dandisets/", {"name": name, "metadata": {}})
                if st == 200:
                    with lock:
                        acked["dandisets"].append([body["identifier"], name])
            else:
                op = "upload via S3"
                ok, what, st, body = upload_one(c, origin, own, f"up/c{i}-{k}.dat", random.randbytes(200 + k))
                if ok:
                    with lock:
                        acked["uploads"].append([own, what, f"up/c{i}-{k}.dat"])
                elif st == 200:
                    st = 599	# a step after the API's answer failed (S3)
            tally(op, st, body)
            if st == 0 or st >= 500 or st == 429:
                time.sleep(0.2)	# as a client waits before it retries (dandi-cli: 1.25 s and up)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(nclients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    open(out + ".started", "w").close()	# contrib/soak/run times its faults from here
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    with open(out, "w") as f:
        json.dump(acked, f)
    total = sum(status.values())
    print(json.dumps({
        "clients": nclients, "seconds": round(elapsed, 1), "requests": total,
        "per_second": round(total / elapsed, 1),
        "status": {str(k): v for k, v in sorted(status.items())},
        "ops": {k: {str(s): n for s, n in sorted(v.items())} for k, v in sorted(ops.items())},
        "errors_by_second": {str(k): {str(s): n for s, n in v.items()} for k, v in sorted(timeline.items())},
        "errors_by_detail": dict(sorted(why.items(), key=lambda kv: -kv[1])),
        "acknowledged": {"dandisets": len(acked["dandisets"]), "assets": len(acked["assets"]),
                         "edits": sum(e["acked"] for e in acked["edits"].values()),
                         "uploads": len(acked["uploads"])}}))


def cmd_verify(origin, token, out):
    with open(out) as f:
        acked = json.load(f)
    c = Client(origin, token)
    lost, checked = [], 0
    for ident, name in acked["dandisets"]:
        checked += 1
        st, d, _ = c.request("GET", f"/api/dandisets/{ident}/versions/draft/")
        if st != 200 or d.get("name") != name:
            lost.append(f"dandiset {ident} ({name}): {st}")
    for ident, asset, path in acked["assets"] + acked["uploads"]:
        checked += 1
        st, a, _ = c.request("GET", f"/api/dandisets/{ident}/versions/draft/assets/{asset}/")
        if st != 200 or a.get("path") != path:
            lost.append(f"asset {asset} ({path}) of {ident}: {st}")
    for ident, e in acked["edits"].items():
        checked += 1
        st, d, _ = c.request("GET", f"/api/dandisets/{ident}/versions/draft/")
        desc = d.get("description", "") if isinstance(d, dict) else ""
        n = int(desc.split()[-1]) if desc.startswith("edit ") else 0
        # A write whose answer was lost may have landed: acked <= n <= sent.
        if not e["acked"] <= n <= e["sent"]:
            lost.append(f"dandiset {ident}: holds edit {n}, last acknowledged {e['acked']}, sent {e['sent']}")
    print(json.dumps({"checked": checked, "lost": lost[:20], "lost_count": len(lost)}))


def cmd_readable(s3, keys):
    n = 0
    for k in keys:
        st, _, _ = raw("HEAD", f"{s3}/{urllib.parse.quote(k)}")
        n += st == 200
    print(n)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "upload":
        cmd_upload(args[0], args[1], args[2], int(args[3]), args[4])
    elif cmd == "load":
        cmd_load(*args)
    elif cmd == "verify":
        cmd_verify(*args)
    elif cmd == "readable":
        cmd_readable(args[0], args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
