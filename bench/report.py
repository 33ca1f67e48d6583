"""Turns bench/work/results.jsonl into the results table (Markdown) and a chart (SVG).
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
    "login": "POST /v1/auth/login",
    "me-during-login-storm": "GET /v1/me during a log-in storm (c=64)",
}


def median_spread(values):
    med = statistics.median(values)
    spread = (max(values) - min(values)) / med * 100 if med else 0.0
    return med, spread


def main():
    rows = [json.loads(line) for line in open(sys.argv[1])]
    meta = next(r for r in rows if r["kind"] == "meta")
    wrk = defaultdict(list)
    for r in rows:
        if r["kind"] == "wrk":
            wrk[(r["endpoint"], r["c"])].append(r)
    pg = defaultdict(list)
    for r in rows:
        if r["kind"] == "pgbench":
            pg[(r["endpoint"], r["mode"])].append(r)

    ceilings = {key: median_spread([r["tps"] for r in runs]) for key, runs in pg.items()}
    lines = [
        f"# Benchmark: {meta['dataset']} data set",
        "",
        f"{meta['orgs']:,} organizations, {meta['users']:,} users, {meta['projects']:,} projects; "
        f"{meta['cores']} cores shared by the service, PostgreSQL and the load generators; "
        f"pool of {meta['pool']} connections (pgbench: as many); {meta['reps']} runs of "
        f"{meta['seconds']} s per figure, median (spread = (max - min) / median). "
        f"Service RSS when idle: {meta['idle_rss_kb'] / 1024:.1f} MiB.",
        "",
        "## The service (wrk, tokens rotating over the organizations)",
        "",
        "| endpoint | c | req/s (spread) | p50 ms | p99 ms | max ms | errors | RSS MiB | CPU µs/req | vs pgbench -M prepared | vs pgbench pipeline |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (endpoint, c), runs in sorted(wrk.items(), key=lambda kv: (list(LABELS).index(kv[0][0]), kv[0][1])):
        rps = [r["result"]["requests"] / (r["result"]["duration_us"] / 1e6) for r in runs]
        med, spread = median_spread(rps)
        p50 = statistics.median(r["result"]["p50_us"] for r in runs) / 1000
        p99 = statistics.median(r["result"]["p99_us"] for r in runs) / 1000
        mx = max(r["result"]["max_us"] for r in runs) / 1000
        errors = sum(r["result"]["errors"] for r in runs)
        rss = max(r["rss_kb"] for r in runs) / 1024
        cpu = statistics.median(
            r["cpu_ticks"] / meta["clk_tck"] * 1e6 / max(1, r["result"]["requests"]) for r in runs
        )
        ratio_prepared = ratio_pipeline = ""
        if endpoint in READS:
            ratio_prepared = f"{med / ceilings[(endpoint, 'prepared')][0]:.2f}x"
            ratio_pipeline = f"{med / ceilings[(endpoint, 'pipeline')][0]:.2f}x"
        lines.append(
            f"| {LABELS[endpoint]} | {c} | {med:,.0f} ({spread:.0f}%) | {p50:.1f} | {p99:.1f} | {mx:.1f} "
            f"| {errors} | {rss:.1f} | {cpu:.0f} | {ratio_prepared} | {ratio_pipeline} |"
        )
    lines += [
        "",
        "## The ceiling (pgbench, the identical transaction)",
        "",
        "| transaction of | mode | tps (spread) | latency ms |",
        "| --- | --- | ---: | ---: |",
    ]
    for (endpoint, mode), runs in sorted(pg.items()):
        med, spread = ceilings[(endpoint, mode)]
        lat = statistics.median(r["latency_ms"] for r in runs)
        lines.append(f"| {READS[endpoint]} | {mode} | {med:,.0f} ({spread:.0f}%) | {lat:.2f} |")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(lines) + "\n")
    write_chart(sys.argv[3], wrk, ceilings)


def write_chart(path, wrk, ceilings):
    """Grouped bars: requests/s of each read endpoint at each concurrency, beside its two
    pgbench ceilings."""
    groups = []
    for endpoint in READS:
        bars = []
        for c in (16, 64, 256):
            runs = wrk.get((endpoint, c), [])
            if runs:
                rps = statistics.median(r["result"]["requests"] / (r["result"]["duration_us"] / 1e6) for r in runs)
                bars.append((f"c={c}", rps, "#4e79a7"))
        bars.append(("pgbench prepared", ceilings[(endpoint, "prepared")][0], "#f28e2b"))
        bars.append(("pgbench pipeline", ceilings[(endpoint, "pipeline")][0], "#e15759"))
        groups.append((READS[endpoint], bars))
    top = max(v for _, bars in groups for _, v, _ in bars) * 1.1
    width, height, left, bottom, bar = 900, 420, 60, 60, 34
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">Requests per second: the service (blue) and the database ceilings</text>']
    x = left
    for title, bars in groups:
        for label, value, color in bars:
            h = (height - bottom - 40) * value / top
            y = height - bottom - h
            out.append(f'<rect x="{x}" y="{y:.0f}" width="{bar - 4}" height="{h:.0f}" fill="{color}"/>')
            out.append(f'<text x="{x + (bar - 4) / 2}" y="{y - 4:.0f}" text-anchor="middle">{value / 1000:.1f}k</text>')
            out.append(f'<text x="{x + 4}" y="{height - bottom + 12}" transform="rotate(35 {x + 4} {height - bottom + 12})">{label}</text>')
            x += bar
        out.append(f'<text x="{x - len(bars) * bar / 2}" y="{height - 6}" text-anchor="middle" font-weight="bold">{title}</text>')
        x += 40
    out.append(f'<line x1="{left - 5}" y1="{height - bottom}" x2="{x}" y2="{height - bottom}" stroke="black"/>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
