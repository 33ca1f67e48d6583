"""Sums a perf profile of the service by what the time is spent on, and prints one JSON line
for the report. Input: `perf report --no-children --sort sym --stdio` (self time per symbol)
and the wrk output of the load that ran during the recording.

Usage: profile.py PERF_SELF.txt WRK_OUTPUT.txt"""

import json
import re
import sys

# First match wins: a symbol's crate path decides its category.
CATEGORIES = [
    ("allocator", r"\bmi_|_mi_|mimalloc|\bmalloc\b|\bfree\b|\brealloc\b|cfree|alloc::alloc|__rust_(de|re)?alloc"),
    ("JWT verification", r"jsonwebtoken|\bhmac\b|sha2::|sha256|\bbase64\b|subtle::"),
    ("JSON", r"serde_json|serde::|itoa|ryu"),
    ("logging", r"tracing_subscriber|tracing_core|tracing::|nu_ansi|sharded_slab"),
    ("metrics", r"prometheus_client|\bmetrics::"),
    ("PostgreSQL client", r"tokio_postgres|postgres_protocol|postgres_types|deadpool|fallible_iterator|futures_channel"),
    ("HTTP", r"\bhyper\b|hyper::|hyper_util|\bpoem\b|poem::|poem_openapi|\bhttp::|httparse|httpdate|headers::|\bh1\b"),
    ("the service's code", r"\btenantry::"),
    ("async runtime", r"\btokio::|\bmio::|tokio_util|futures_util|futures_core|parking_lot|PollFn|AssertUnwindSafe"),
    ("memory copies", r"memcpy|memmove|memset|memcmp|\bbytes::"),
    ("formatting and hashing", r"core::fmt|fmt::Write|from_utf8|hashbrown|indexmap|core::hash|siphash"),
    ("clock", r"clock_gettime"),
    ("kernel (syscalls, TCP)", r"^\[k\]|^__send|^__libc_|^__GI___libc|^epoll_wait|^syscall"),
]


def main():
    rows = []
    for line in open(sys.argv[1]):
        m = re.match(r"\s*([\d.]+)%\s+(\[[.k]\])\s+(.*)$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3).strip()))
    totals = {}
    top = []
    for share, kind, symbol in rows:
        text = f"{kind} {symbol}" if kind == "[k]" else symbol
        category = next((name for name, pattern in CATEGORIES if re.search(pattern, symbol if kind != "[k]" else "[k]")), "other")
        totals[category] = totals.get(category, 0.0) + share
        if len(top) < 25:
            top.append({"share": share, "category": category, "symbol": text[:140]})
    wrk = open(sys.argv[2]).read()
    bench = next((json.loads(l[6:]) for l in wrk.splitlines() if l.startswith("BENCH ")), {})
    print(json.dumps({"kind": "profile", "categories": totals, "top": top, "load": bench}))


if __name__ == "__main__":
    main()
