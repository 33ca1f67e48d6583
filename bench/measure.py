"""Runs the measured plan of bench/run against a started service and writes one JSON line per
run. Every measured block (one wrk or pgbench run) is preceded by VACUUM (ANALYZE) and a
CHECKPOINT, and is accounted for in CPU per process, sampled from /proc while it runs:

* the service: utime + stime of its pid, and its RSS (the maximum seen, sampled at 20 Hz);
* PostgreSQL: the sum over the backends of the benchmark database (found among the
  postmaster's children by their process title). Backends that live through the block are
  exact; a backend that exits during it (pgbench's, at its end) counts up to its last sample,
  at most 50 ms before it exits;
* the load generator: wrk's or pgbench's own rusage, exact (wait4).

Order: for each read, a warm-up of the same length for wrk and pgbench, then repetitions
interleaved service / pgbench / service / pgbench (so drift hits both); then GET /v1/me with an
API key and with an access token, interleaved; writes after all the reads; log-ins last,
followed by 30 s of RSS samples once the load has ended.

Usage: measure.py CONFIG.json (written by bench/run)."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """utime + stime of a process, in seconds, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def rss_kb(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE // 1024


class Backends:
    """The backends of one database, by pid, with their last CPU reading."""

    def __init__(self, postmaster, db):
        self.postmaster, self.marker, self.ours = postmaster, f" {db} ", {}

    def pids(self):
        pids = []
        for task in os.listdir(f"/proc/{self.postmaster}/task"):
            with open(f"/proc/{self.postmaster}/task/{task}/children") as f:
                pids += f.read().split()
        return pids

    def sample(self, readings):
        for pid in self.pids():
            if pid not in self.ours:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        self.ours[pid] = self.marker in f.read().replace(b"\0", b" ").decode(errors="replace")
                except FileNotFoundError:
                    continue
            if self.ours[pid]:
                value = cpu_s(pid)
                if value is not None:
                    readings[pid] = value


class Run:
    """One measured block: the command's output and the CPU of every process involved."""

    def __init__(self, cfg, backends):
        self.cfg, self.backends = cfg, backends

    def __call__(self, command, env=None):
        service = self.cfg["service_pid"]
        before_backends, after_backends = {}, {}
        self.backends.sample(before_backends)
        before_service = cpu_s(service)
        rss_max = rss_kb(service)
        started = time.monotonic()
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            child = subprocess.Popen(command, stdout=out, stderr=err, env={**os.environ, **(env or {})})
            while True:
                # wait4 rather than Popen.wait: it also gives the child's own CPU time.
                pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                if pid == child.pid:
                    child.returncode = os.waitstatus_to_exitcode(status)
                    break
                time.sleep(0.05)
                self.backends.sample(after_backends)
                rss_max = max(rss_max, rss_kb(service))
            wall = time.monotonic() - started
            out.seek(0)
            err.seek(0)
            output = {"out": out.read(), "err": err.read()}
        self.backends.sample(after_backends)
        after_service = cpu_s(service)
        postgres = sum(value - before_backends.get(pid, 0.0) for pid, value in after_backends.items())
        return {
            "exit": child.returncode, "stdout": output.get("out", ""), "stderr": output.get("err", ""),
            "wall_s": wall, "rss_max_kb": max(rss_max, rss_kb(service)), "rss_end_kb": rss_kb(service),
            "cpu_s": {"service": after_service - before_service, "postgres": postgres,
                      "load": usage.ru_utime + usage.ru_stime},
        }


def psql(cfg, *commands):
    args = ["psql", cfg["db_url"], "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    for c in commands:
        args += ["-c", c]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def settle(cfg):
    """Before every measured block: the same starting state for both sides."""
    psql(cfg, "VACUUM (ANALYZE)", "CHECKPOINT")


def wrk_command(cfg, endpoint, c, seconds, threads=1):
    return ["wrk", f"-t{threads}", f"-c{c}", f"-d{seconds}s", "--timeout", "10s", "-s", "bench/wrk.lua", cfg["url"]], {
        "BENCH_ENDPOINT": endpoint, "BENCH_TARGETS": cfg["targets"], "BENCH_KEYS": cfg["keys"]}


def pgbench_command(cfg, endpoint, mode, seconds):
    return ["pgbench", "-n", "-M", "prepared", "-c", str(cfg["pool"]), "-j", "2", "-T", str(seconds),
            "-D", "k=0", "-D", f"orgs={cfg['orgs']}", "-D", f"users={cfg['users']}",
            "-D", f"projects={cfg['projects']}", "-f", f"{cfg['scripts']}/{endpoint}_{mode}.sql", cfg["db_url"]], {}


def parse_wrk(run):
    line = next((l[6:] for l in run["stdout"].splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        return {"requests": 0, "rate": 0.0, "duration_us": 1, "p50_us": 0, "p99_us": 0, "max_us": 0,
                "errors": 1, "error_text": (run["stderr"] or run["stdout"])[-500:]}
    r = json.loads(line)
    r["errors"] = r["socket_errors"] + r["non2xx"] + (1 if run["exit"] else 0)
    r["rate"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def parse_pgbench(run):
    out = run["stdout"]
    def number(pattern):
        m = re.search(pattern, out, re.M)
        return float(m.group(1)) if m else None
    done = number(r"^number of transactions actually processed: (\d+)")
    failed = number(r"^number of failed transactions: (\d+)") or 0
    aborted = "aborted" in run["stderr"].lower() or "error" in run["stderr"].lower()
    r = {"requests": int(done or 0), "rate": number(r"^tps = ([\d.]+)") or 0.0,
         "latency_ms": number(r"^latency average = ([\d.]+) ms") or 0.0,
         "errors": int(failed) + (1 if run["exit"] or aborted or done is None else 0)}
    if r["errors"]:
        r["error_text"] = run["stderr"][-500:]
    return r


def main():
    cfg = json.load(open(sys.argv[1]))
    with open(os.path.join(cfg["data_directory"], "postmaster.pid")) as f:
        postmaster = int(f.readline())
    run = Run(cfg, Backends(postmaster, cfg["db"]))
    out = open(cfg["results"], "a")

    def record(kind, result, **fields):
        result = {k: v for k, v in result.items() if k not in ("stdout", "stderr")}
        line = {"kind": kind, **fields, **result}
        out.write(json.dumps(line) + "\n")
        out.flush()
        status = "INVALID" if line.get("errors") else "ok"
        print(f"    {kind} {fields} {line.get('rate', 0):,.0f}/s errors={line.get('errors')} {status}", file=sys.stderr)

    def measure_wrk(endpoint, c, rep, label=None, seconds=None, threads=1):
        settle(cfg)
        command, env = wrk_command(cfg, endpoint, c, seconds or cfg["seconds"], threads)
        result = run(command, env)
        record("wrk", {**result, **parse_wrk(result)}, endpoint=label or endpoint, c=c, rep=rep)

    def measure_pgbench(endpoint, mode, rep, label=None, extra=()):
        settle(cfg)
        command, env = pgbench_command(cfg, endpoint, mode, cfg["seconds"])
        result = run(command[:-1] + list(extra) + command[-1:], env)
        record("pgbench", {**result, **parse_pgbench(result)}, endpoint=endpoint, mode=label or mode, rep=rep)

    # What pgbench's draws cost (one lookup per 8 transactions, the slot's \if, the \set's):
    # the drawing script and the fixed-id one, both on the same single row.
    one_row = ["-D", "orgs=1", "-D", "users=1", "-D", "projects=1"]
    fixed_ids = subprocess.run(
        ["psql", cfg["db_url"], "-X", "-At", "-F", " ", "-c",
         "select bench.id(0, 1), bench.id(1, bench.user_number(1, 1)), bench.id(2, bench.user_number(1, 1)), "
         "bench.id(3, bench.project_number(1, 1))"], check=True, capture_output=True, text=True).stdout.split()
    fixed = []
    for name, value in zip(("org", "usr", "ses", "prj"), fixed_ids):
        fixed += ["-D", f"{name}={value}"]
    fixed += ["-D", "nil=00000000-0000-0000-0000-000000000000", "-D", "lim=21", "-D", "incl=false"]

    warmup = cfg["warmup"]
    for endpoint in ("me", "users", "project"):
        print(f"--> {endpoint}: warm-up ({warmup} s each side), then {cfg['reps']} interleaved repetitions", file=sys.stderr)
        command, env = wrk_command(cfg, endpoint, 64, warmup)
        record("warmup", parse_wrk(run(command, env)), side="wrk", endpoint=endpoint)
        command, env = pgbench_command(cfg, endpoint, "pipeline", warmup)
        record("warmup", parse_pgbench(run(command, env)), side="pgbench", endpoint=endpoint)
        for rep in range(1, cfg["reps"] + 1):
            measure_wrk(endpoint, 64, rep)
            measure_pgbench(endpoint, "pipeline", rep)
            measure_wrk(endpoint, 16, rep)
            measure_pgbench(endpoint, "prepared", rep)
            measure_wrk(endpoint, 256, rep)
            if endpoint == "me":
                measure_pgbench(endpoint, "pipeline", rep, label="draws-one-row", extra=one_row)
                measure_pgbench(endpoint, "fixed", rep, label="fixed-one-row", extra=one_row + fixed)

    # GET /v1/me with an API key against the same with an access token, interleaved in one run
    # (the key's check, app.enter_key, replaces the session check, app.enter).
    print(f"--> me with a key vs a token: warm-up ({warmup} s each), then {cfg['reps']} interleaved pairs", file=sys.stderr)
    for endpoint in ("me-key", "me"):
        command, env = wrk_command(cfg, endpoint, 64, warmup)
        record("warmup", parse_wrk(run(command, env)), side="wrk", endpoint=endpoint)
    for rep in range(1, cfg["reps"] + 1):
        measure_wrk("me", 64, rep, label="me-token")
        measure_wrk("me-key", 64, rep)

    print("--> writes, after all the reads", file=sys.stderr)
    for rep in range(1, cfg["reps"] + 1):
        measure_wrk("create", 64, rep)
        measure_wrk("patch", 64, rep)

    print("--> log-in: one at a time (the argon2id time), then storms", file=sys.stderr)
    for rep in range(1, cfg["reps"] + 1):
        measure_wrk("login", 1, rep, label="login-alone")
        measure_wrk("login", 64, rep)
    for rep in range(1, cfg["reps"] + 1):
        settle(cfg)
        command, env = wrk_command(cfg, "login", 64, cfg["seconds"] + 2)
        storm = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        command, env = wrk_command(cfg, "me", 16, cfg["seconds"])
        result = run(command, env)
        storm_out, storm_err = storm.communicate()
        storm_result = parse_wrk({"stdout": storm_out, "stderr": storm_err, "exit": storm.returncode})
        parsed = parse_wrk(result)
        parsed["errors"] += storm_result["errors"]
        record("wrk", {**result, **parsed}, endpoint="me-during-login-storm", c=16, rep=rep)

    print("--> RSS after the load, every second for 30 s", file=sys.stderr)
    samples = []
    for second in range(31):
        samples.append(rss_kb(cfg["service_pid"]))
        if second < 30:
            time.sleep(1)
    record("recovery", {"rss_kb": samples})


if __name__ == "__main__":
    main()
