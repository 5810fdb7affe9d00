#!/usr/bin/env python3
"""What request ids and metrics cost, in instructions (callgrind counts them, so the figure is
the same on a busy machine, unlike a throughput ratio on shared cores).

Runs `giftbiz serve` (release build) under `valgrind --tool=callgrind` on a fresh SQLite file
with both off and with both on, sends N and then 3N requests of one kind (0101 page(20), or
0204 send gubun Y) to each, and reports the server's instructions per request: the
difference of the two runs over 2N, so start-up and shutdown cancel out. Then what one
`/metrics` scrape costs, the same way.

    python3 ops/bench/callgrind_observability.py [--requests 500] [--bin target/release/giftbiz]
"""

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request


def start(binary, work, name, env_extra):
    db = os.path.join(work, f"{name}.db")
    out = os.path.join(work, f"{name}.callgrind")
    env = dict(os.environ, RUST_LOG="warn", GIFTBIZ_DELIVERY_INTERVAL_MS="0", GIFTBIZ_EXPIRY_INTERVAL_MS="0", **env_extra)
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "serve", "--demo",
         "--database", f"sqlite://{db}", "--listen", "127.0.0.1:0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    printed = []
    for line in proc.stdout:
        printed.append(line)
        m = re.match(r"giftbiz listening on (\S+)", line)
        if m:
            base = m.group(1)
            break
    field = lambda k: next(l.split("=", 1)[1].strip() for l in printed if l.strip().startswith(k))
    return proc, out, base, field("custom_auth_code"), field("custom_auth_token")


def post(base, path, form, headers=None):
    data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(base + path, data=data, headers=headers or {})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def run(binary, work, kind, on, n, scrapes=0):
    env = {"GIFTBIZ_METRICS": str(on).lower(), "GIFTBIZ_REQUEST_IDS": str(on).lower()}
    name = f"{kind}-{'on' if on else 'off'}-{n}-{scrapes}"
    proc, out, base, code, token = start(binary, work, name, env)
    common = {"custom_auth_code": code, "custom_auth_token": token, "dev_yn": "N"}
    goods = post(base, "/bizApi/goods", dict(common, api_code="0101", size="500"))["result"]["goodsList"]
    # The cheapest on sale: the demo account's 1,000,000 won pays for the most sends.
    on_sale = min((g for g in goods if g["goodsStateCd"] == "SALE"), key=lambda g: g["discountPrice"])["goodsCode"]
    for i in range(n):
        if kind == "0101":
            r = post(base, "/bizApi/goods", dict(common, api_code="0101", start=str(i % 16 + 1), size="20"))
        else:
            r = post(base, "/bizApi/send", dict(common, api_code="0204", user_id="demo", goods_code=on_sale, gubun="Y",
                                                 phone_no="01012345678", callback_no="15880108", mms_title="t",
                                                 mms_msg="m", tr_id=f"cg{n}_{i}"))
        assert r["code"] == "0000", r
    for _ in range(scrapes):
        urllib.request.urlopen(base + "/metrics").read()
    proc.terminate()
    proc.wait()
    with open(out) as f:
        total = next(int(l.split()[1]) for l in f if l.startswith("summary:") or l.startswith("totals:"))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--bin", default="target/release/giftbiz")
    args = ap.parse_args()
    n = args.requests
    with tempfile.TemporaryDirectory() as work:
        print(f"server instructions per request (callgrind; {n} and {3 * n} requests, difference over {2 * n})")
        print(f"{'request':<16} {'off':>12} {'on':>12} {'on/off':>8}")
        for kind in ["0101", "0204"]:
            per = {}
            for on in [False, True]:
                small, large = run(args.bin, work, kind, on, n), run(args.bin, work, kind, on, 3 * n)
                per[on] = (large - small) / (2 * n)
            label = "0101 page(20)" if kind == "0101" else "0204 gubun Y"
            print(f"{label:<16} {per[False]:>12.0f} {per[True]:>12.0f} {per[True] / per[False]:>8.3f}")
        # A scrape (rendering every series and reading the database's figures), after the sends
        # of a 0204 run: what each Prometheus scrape costs the server, every 15 s or so.
        few, many = run(args.bin, work, "0204", True, n, 10), run(args.bin, work, "0204", True, n, 110)
        print(f"one /metrics scrape after {n} sends: {(many - few) / 100:.0f} instructions")


if __name__ == "__main__":
    main()
