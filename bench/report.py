"""Turns bench/work/results.jsonl into the results page (Markdown) and a chart (SVG).
Exits 1 when any run had an error or a non-2xx answer: such a run is INVALID and shows no ratio.
Usage: report.py RESULTS.jsonl OUT.md OUT.svg"""

import json
import statistics
import sys
from collections import defaultdict

READS = {"me": "GET /v1/me", "users": "GET /v1/users?limit=20", "project": "GET /v1/projects/{id}"}
LABELS = {
    **READS,
    "create": "POST /v1/projects",
    "patch": "PATCH /v1/projects/{id} (If-Match)",
    "login-alone": "POST /v1/auth/login, one at a time",
    "login": "POST /v1/auth/login",
    "me-during-login-storm": "GET /v1/me during a log-in storm (c=64)",
    "me-token": "GET /v1/me with an access token (paired with the key)",
    "me-key": "GET /v1/me with an API key",
}
MODES = {
    "pipeline": "ceiling: pipelined (1 round trip)",
    "prepared": "reference: -M prepared (5 round trips)",
    "draws-one-row": "pipelined, its draws limited to one row",
    "fixed-one-row": "pipelined, the same row given with -D: no draws",
}
MIB = 1024


def median_spread(values):
    med = statistics.median(values)
    spread = (max(values) - min(values)) / med * 100 if med else 0.0
    return med, spread


def per_request_us(runs, process):
    return statistics.median(r["cpu_s"][process] * 1e6 / max(1, r["requests"]) for r in runs)


def main():
    rows = [json.loads(line) for line in open(sys.argv[1])]
    meta = next(r for r in rows if r["kind"] == "meta")
    wrk, pg = defaultdict(list), defaultdict(list)
    for r in rows:
        if r["kind"] == "wrk":
            wrk[(r["endpoint"], r["c"])].append(r)
        elif r["kind"] == "pgbench":
            pg[(r["endpoint"], r["mode"])].append(r)
    failed = [r for r in rows if r.get("errors")]
    valid = not failed
    ceilings = {key: median_spread([r["rate"] for r in runs]) for key, runs in pg.items()}

    lines = [
        f"# Benchmark: {meta['dataset']} data set" + ("" if valid else " — INVALID"),
        "",
        f"Commit {meta['commit']}. {meta['orgs']:,} organizations, {meta['users']:,} users, "
        f"{meta['projects']:,} projects (seeded in {meta['seed_s']} s; tokens written in {meta['tokens_s']} s). "
        f"{meta['cores']} cores shared by the service, PostgreSQL and the load generator; pool of "
        f"{meta['pool']} connections (pgbench: as many). Each figure: median of {meta['reps']} runs of "
        f"{meta['seconds']} s (spread = (max - min) / median), each run after VACUUM (ANALYZE) and "
        f"CHECKPOINT, service and pgbench runs interleaved, after a {meta['warmup']} s warm-up of each.",
        "",
    ]
    if not valid:
        lines += ["**INVALID: these runs had errors or non-2xx answers, so no figure of this run stands "
                  "and no ratio is shown:**", ""]
        for r in failed:
            what = {k: r[k] for k in ("kind", "endpoint", "c", "mode", "side", "rep") if k in r}
            detail = r.get("error_text", "")[:200] or r.get("statuses") or ""
            lines.append(f"- {what}: {r['errors']} errors {detail}")
        lines.append("")

    lines += [
        "## Reads: the service (wrk) against the ceiling (pgbench of the identical transaction)",
        "",
        "CPU per request in µs, for each process, measured in the same run: the service, PostgreSQL "
        "(its backends of this database) and the load generator.",
        "",
        "| endpoint | c | req/s (spread) | p50 ms | p99 ms | max ms | errors | RSS max MiB "
        "| CPU µs/req service | PostgreSQL | wrk | vs ceiling | vs -M prepared |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    order = list(LABELS)
    for (endpoint, c), runs in sorted(wrk.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        med, spread = median_spread([r["rate"] for r in runs])
        p50 = statistics.median(r["p50_us"] for r in runs) / 1000
        p99 = statistics.median(r["p99_us"] for r in runs) / 1000
        mx = max(r["max_us"] for r in runs) / 1000
        errors = sum(r["errors"] for r in runs)
        rss = max(r["rss_max_kb"] for r in runs) / MIB
        ratios = ["", ""]
        if endpoint in READS and valid:
            ratios = [f"{med / ceilings[(endpoint, mode)][0]:.2f}x" for mode in ("pipeline", "prepared")]
        row = (f"| {LABELS[endpoint]} | {c} | {med:,.0f} ({spread:.0f}%) | {p50:.1f} | {p99:.1f} | {mx:.1f} "
               f"| {errors} | {rss:.1f} | {per_request_us(runs, 'service'):.0f} | {per_request_us(runs, 'postgres'):.0f} "
               f"| {per_request_us(runs, 'load'):.0f} | {ratios[0]} | {ratios[1]} |")
        if endpoint in READS:
            lines.append(row)
    lines += [
        "",
        "| transaction of | pgbench | tps (spread) | latency ms | errors | CPU µs/tx PostgreSQL | pgbench |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (endpoint, mode), runs in sorted(pg.items(), key=lambda kv: (order.index(kv[0][0]), list(MODES).index(kv[0][1]))):
        med, spread = ceilings[(endpoint, mode)]
        lat = statistics.median(r["latency_ms"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        lines.append(f"| {READS[endpoint]} | {MODES[mode]} | {med:,.0f} ({spread:.0f}%) | {lat:.2f} | {errors} "
                     f"| {per_request_us(runs, 'postgres'):.0f} | {per_request_us(runs, 'load'):.0f} |")

    if ("me", "draws-one-row") in ceilings and ("me", "fixed-one-row") in ceilings:
        cost = 1 - ceilings[("me", "draws-one-row")][0] / ceilings[("me", "fixed-one-row")][0]
        lines += ["", f"pgbench draws its ids with one lookup per 8 transactions and a `\\if` per slot: on one "
                  f"row both ways, that costs it {cost * 100:.0f}% of its throughput (GET /v1/me). The ceiling is "
                  f"understated by about as much, and the ratios to it overstated."]
    lines += [
        "",
        "## Writes and log-in (after all the reads)",
        "",
        "| request | c | req/s (spread) | p50 ms | p99 ms | errors | RSS max MiB | CPU µs/req service | PostgreSQL |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (endpoint, c), runs in sorted(wrk.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        if endpoint in READS:
            continue
        med, spread = median_spread([r["rate"] for r in runs])
        lines.append(
            f"| {LABELS[endpoint]} | {c} | {med:,.0f} ({spread:.0f}%) | {statistics.median(r['p50_us'] for r in runs) / 1000:.1f} "
            f"| {statistics.median(r['p99_us'] for r in runs) / 1000:.1f} | {sum(r['errors'] for r in runs)} "
            f"| {max(r['rss_max_kb'] for r in runs) / MIB:.1f} | {per_request_us(runs, 'service'):.0f} "
            f"| {per_request_us(runs, 'postgres'):.0f} |")

    token_runs, key_runs = wrk.get(("me-token", 64)), wrk.get(("me-key", 64))
    if token_runs and key_runs:
        token_rate = statistics.median(r["rate"] for r in token_runs)
        key_rate = statistics.median(r["rate"] for r in key_runs)
        lines += ["", "## API keys: GET /v1/me with a key against the same with an access token", "",
                  f"Interleaved pairs at c=64, in this run: {key_rate:,.0f} req/s with a key, "
                  f"{token_rate:,.0f} req/s with a token: "
                  + (f"{key_rate / token_rate:.2f}x." if valid else "no ratio (INVALID run).")]

    targets = evaluate(meta, wrk, ceilings, rows, valid)
    lines += ["", "## Targets", "", "| target | measured | status |", "| --- | --- | --- |"]
    lines += [f"| {t} | {m} | {s} |" for t, m, s in targets]

    profile = next((r for r in rows if r["kind"] == "profile"), None)
    if profile:
        load = profile.get("load", {})
        lines += [
            "",
            "## Profile of the service (perf, GET /v1/me at c=64, self time)",
            "",
            f"Under {load.get('requests', 0) / max(1, load.get('duration_us', 1)) * 1e6:,.0f} req/s "
            f"(the profiling build: release code with line tables and frame pointers, perf attached).",
            "",
            "| what | share of the service's CPU |",
            "| --- | ---: |",
        ]
        for name, share in sorted(profile["categories"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| {name} | {share:.1f}% |")
        lines += ["", "Top symbols:", "", "| share | category | symbol |", "| ---: | --- | --- |"]
        for t in profile["top"]:
            lines.append(f"| {t['share']:.2f}% | {t['category']} | `{t['symbol'].replace('|', '/')}` |")

    with open(sys.argv[2], "w") as f:
        f.write("\n".join(lines) + "\n")
    write_chart(sys.argv[3], wrk, ceilings, valid)
    sys.exit(0 if valid else 1)


def evaluate(meta, wrk, ceilings, rows, valid):
    """Every target with its measured number: met, missed, or not measured."""
    out = []

    def status(ok):
        if not valid:
            return "void (INVALID run)"
        return "met" if ok else "**missed**"

    for endpoint, label in READS.items():
        runs = wrk.get((endpoint, 64))
        if runs and (endpoint, "pipeline") in ceilings:
            ratio = statistics.median(r["rate"] for r in runs) / ceilings[(endpoint, "pipeline")][0]
            out.append((f"{label} at c=64 >= 0.6x the ceiling", f"{ratio:.2f}x" if valid else "-", status(ratio >= 0.6)))
            p99 = statistics.median(r["p99_us"] for r in runs) / 1000
            out.append((f"{label} p99 at c=64 <= 15 ms", f"{p99:.1f} ms", status(p99 <= 15)))
    runs = wrk.get(("me", 64))
    if runs:
        cpu = per_request_us(runs, "service")
        out.append(("service CPU for GET /v1/me at c=64 <= 35 µs/request", f"{cpu:.0f} µs", status(cpu <= 35)))
    token_runs, key_runs = wrk.get(("me-token", 64)), wrk.get(("me-key", 64))
    if token_runs and key_runs:
        ratio = statistics.median(r["rate"] for r in key_runs) / statistics.median(r["rate"] for r in token_runs)
        out.append(("GET /v1/me with an API key >= 0.95x with an access token (c=64, same run)",
                    f"{ratio:.2f}x" if valid else "-", status(ratio >= 0.95)))
    idle = meta["idle_rss_kb"] / MIB
    out.append(("RSS idle after start <= 20 MiB", f"{idle:.1f} MiB", status(idle <= 20)))
    reads256 = [r["rss_max_kb"] for (e, c), runs in wrk.items() if e in READS and c == 256 for r in runs]
    if reads256:
        m = max(reads256) / MIB
        out.append(("RSS under reads at c=256 <= 64 MiB", f"{m:.1f} MiB", status(m <= 64)))
    storm = [r["rss_max_kb"] for (e, c), runs in wrk.items() if e in ("login", "me-during-login-storm") and c != 1 for r in runs]
    if storm:
        m = max(storm) / MIB
        out.append(("RSS during a log-in storm <= 96 MiB", f"{m:.1f} MiB", status(m <= 96)))
    recovery = next((r for r in rows if r["kind"] == "recovery"), None)
    if recovery:
        samples = recovery["rss_kb"]
        under = next((i for i, v in enumerate(samples) if v < 40 * MIB), None)
        measured = (f"{samples[0] / MIB:.1f} MiB at the end of the load, {samples[-1] / MIB:.1f} MiB after 30 s"
                    + (f", under 40 MiB after {under} s" if under is not None else ""))
        out.append(("RSS back under 40 MiB within 30 s of the load ending", measured, status(under is not None)))
    alone, storm_runs = wrk.get(("login-alone", 1)), wrk.get(("login", 64))
    if alone and storm_runs:
        argon2_ms = statistics.median(r["duration_us"] / max(1, r["requests"]) for r in alone) / 1000
        bound = meta["cores"] / (argon2_ms / 1000)
        rate = statistics.median(r["rate"] for r in storm_runs)
        out.append(("log-in throughput >= 90% of cores / argon2id time",
                    f"{rate:,.0f}/s = {rate / bound * 100:.0f}% of {meta['cores']} / {argon2_ms:.1f} ms "
                    f"(one log-in alone, HTTP and SQL included) = {bound:,.0f}/s", status(rate >= 0.9 * bound)))
    return out


def write_chart(path, wrk, ceilings, valid):
    """Grouped bars: requests/s of each read at each concurrency, beside its ceiling and the
    -M prepared reference."""
    groups = []
    for endpoint in READS:
        bars = []
        for c in (16, 64, 256):
            runs = wrk.get((endpoint, c), [])
            if runs:
                bars.append((f"c={c}", statistics.median(r["rate"] for r in runs), "#4e79a7"))
        if (endpoint, "pipeline") in ceilings:
            bars.append(("ceiling (pipelined)", ceilings[(endpoint, "pipeline")][0], "#e15759"))
        if (endpoint, "prepared") in ceilings:
            bars.append(("-M prepared (5 RTT)", ceilings[(endpoint, "prepared")][0], "#f28e2b"))
        groups.append((READS[endpoint], bars))
    top = max([v for _, bars in groups for _, v, _ in bars] + [1]) * 1.1
    width, height, left, bottom, bar = 900, 420, 60, 70, 34
    title = "Requests per second: the service (blue), the ceiling and the -M prepared reference"
    if not valid:
        title = "INVALID RUN (errors): no figure stands"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">{title}</text>']
    x = left
    for name, bars in groups:
        for label, value, color in bars:
            h = (height - bottom - 40) * value / top
            y = height - bottom - h
            out.append(f'<rect x="{x}" y="{y:.0f}" width="{bar - 4}" height="{h:.0f}" fill="{color}"/>')
            out.append(f'<text x="{x + (bar - 4) / 2}" y="{y - 4:.0f}" text-anchor="middle">{value / 1000:.1f}k</text>')
            out.append(f'<text x="{x + 4}" y="{height - bottom + 12}" transform="rotate(35 {x + 4} {height - bottom + 12})">{label}</text>')
            x += bar
        out.append(f'<text x="{x - len(bars) * bar / 2}" y="{height - 6}" text-anchor="middle" font-weight="bold">{name}</text>')
        x += 40
    out.append(f'<line x1="{left - 5}" y1="{height - bottom}" x2="{x}" y2="{height - bottom}" stroke="black"/>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
