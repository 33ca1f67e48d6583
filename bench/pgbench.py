"""Writes the pgbench scripts of the three reads: the transactions the service sends, with the
statements taken from the service's own sources, so the two cannot drift apart:

* BEGIN, SET LOCAL ROLE, SELECT app.enter($1, $2, $3) and COMMIT are the constants of
  src/db/tx.rs; each query is its file under sql/queries/ (the service embeds the same file);
* every value is a bound parameter (pgbench binds `:name` as $n in -M prepared), never a
  literal: org, user, session and project ids drawn like wrk draws them (uniformly over every
  organization, every user of it and every project of it).

pgbench cannot make strings, so ids are drawn in batches: every BATCH transactions a client
draws BATCH (organization, user, project) numbers with `\\set random(...)` and turns them into
ids with one lookup (`SELECT bench.id(...) ... \\gset`, the layout functions of seed.sql); each
transaction then binds the ids of its slot, chosen by a binary tree of `\\if` on a counter. The
lookup is one extra statement and round trip per BATCH transactions, outside them. BATCH is
small because every slot is a copy of the transaction that each pgbench connection prepares
(and plans) anew, and that pgbench steps over when it is not the slot's turn.

Differences that remain (pgbench cannot do otherwise), stated in docs/performance.md:
* the service sends BEGIN, SET LOCAL ROLE and COMMIT as simple-protocol queries, pgbench as
  prepared extended-protocol statements;
* the service syncs after every statement (5 sync points in one round trip); pgbench's
  pipeline has one sync point (\\startpipeline .. \\endpipeline; pgbench 15 has no
  \\syncpipeline), its -M prepared mode waits for each statement (5 round trips);
* the service binds parameters in binary, pgbench in text;
* the list of users: the service binds NULL as the cursor ($2); pgbench cannot bind NULL, so
  it binds the nil UUID (all ids are greater: the same rows), and as pgbench numbers each
  `:name` separately, the two uses of $2 become two parameters.

Usage: pgbench.py OUT_DIR (writes me.sql, users.sql, project.sql, each in a `pipeline` and a
`prepared` variant, and a `fixed` variant without draws, to measure what the draws cost); run
the scripts with -M prepared -D k=0 -D orgs=.. -D users=.. -D projects=.."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 8

# endpoint: (query file, what each $n binds, by slot variable name or constant)
READS = {
    "me": ("users/get.sql", ["org", "usr"]),
    "users": ("users/list.sql", ["org", "nil", "lim", "incl"]),
    "project": ("projects/get.sql", ["org", "prj"]),
}
CONSTANTS = {"nil": "'00000000-0000-0000-0000-000000000000'::uuid", "lim": "21", "incl": "false"}


def tx_constants() -> dict:
    source = (ROOT / "src/db/tx.rs").read_text()
    found = dict(re.findall(r'^const (BEGIN|COMMIT|SET_ROLE|ENTER): &str = "([^"]*)";', source, re.M))
    if set(found) != {"BEGIN", "COMMIT", "SET_ROLE", "ENTER"}:
        sys.exit(f"pgbench.py: the statements of src/db/tx.rs were not found ({sorted(found)})")
    return found


def query(path: str) -> str:
    lines = [line for line in (ROOT / "sql/queries" / path).read_text().splitlines() if not line.startswith("--")]
    return "\n".join(lines).strip()


def bind(sql: str, names: list, slot) -> str:
    def name(match):
        n = names[int(match.group(1)) - 1]
        return f":{n}" if n in CONSTANTS else f":{n}{slot}"
    return re.sub(r"\$(\d+)", name, sql)


def draw() -> list:
    out = ["\\if :k = 0", f"-- draw the ids of the next {BATCH} transactions"]
    columns = []
    for s in range(BATCH):
        out += [f"\\set o{s} random(1, :orgs)", f"\\set u{s} random(1, :users)", f"\\set p{s} random(1, :projects)"]
        columns += [
            f"bench.id(0, :o{s}) AS org{s}",
            f"bench.id(1, bench.user_number(:o{s}, :u{s})) AS usr{s}",
            f"bench.id(2, bench.user_number(:o{s}, :u{s})) AS ses{s}",
            f"bench.id(3, bench.project_number(:o{s}, :p{s})) AS prj{s}",
        ]
    columns += [f"{value} AS {name}" for name, value in CONSTANTS.items()]
    out += ["SELECT " + ", ".join(columns), "\\gset", "\\endif"]
    return out


def transaction(c: dict, sql: str, names: list, slot, pipeline: bool) -> list:
    enter = bind(c["ENTER"], ["org", "usr", "ses"], slot)
    body = [f"{c['BEGIN']};", f"{c['SET_ROLE']};", f"{enter};", f"{bind(sql, names, slot)};", f"{c['COMMIT']};"]
    return ["\\startpipeline", *body, "\\endpipeline"] if pipeline else body


def tree(c, sql, names, lo, hi, pipeline) -> list:
    if hi - lo == 1:
        return transaction(c, sql, names, lo, pipeline)
    mid = (lo + hi) // 2
    return [f"\\if :k < {mid}", *tree(c, sql, names, lo, mid, pipeline), "\\else",
            *tree(c, sql, names, mid, hi, pipeline), "\\endif"]


def main() -> None:
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    c = tx_constants()
    for endpoint, (path, names) in READS.items():
        sql = query(path)
        for mode in ("pipeline", "prepared"):
            lines = [f"-- Generated by bench/pgbench.py: the transaction of the service's {endpoint} read ({mode})."]
            lines += draw() + tree(c, sql, names, 0, BATCH, mode == "pipeline")
            lines += [f"\\set k (:k + 1) % {BATCH}"]
            (out_dir / f"{endpoint}_{mode}.sql").write_text("\n".join(lines) + "\n")
        # The cost of the draws themselves: the same pipelined transaction on ids given with -D
        # (org, usr, ses, prj, nil, lim, incl), to run against the drawing script limited to the
        # same single row (-D orgs=1 -D users=1 -D projects=1).
        lines = [f"-- Generated by bench/pgbench.py: the {endpoint} transaction on fixed ids, without draws."]
        lines += transaction(c, sql, names, "", True)
        (out_dir / f"{endpoint}_fixed.sql").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
