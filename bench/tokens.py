"""Writes what wrk needs to address any row of the benchmark data set at random:

* TOKENS: one access token for every seeded user, signed as the service signs them (HS256,
  kid = the first 8 bytes of SHA-256 of the key, compact JSON claims), in fixed-size records
  (3 digits of length, the token, padding) in the order of organization then user number, so
  that wrk.lua finds user u of organization o at record (o - 1) * users + (u - 1);
* TARGETS (Lua): the record size, the counts, and the format of a project id, all read from
  the seeded database (the layout is defined once, by the `bench` functions of seed.sql).

Usage: tokens.py SECRET DATABASE_URL ORGS USERS PROJECTS TOKENS TARGETS.lua"""

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time

RECORD = 512


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def psql(url: str, sql: str) -> str:
    return subprocess.run(
        ["psql", url, "-X", "-q", "-At", "-F", ",", "-c", sql], check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    secret, url, orgs, users, projects, tokens_path, targets_path = sys.argv[1:8]
    orgs, users, projects = int(orgs), int(users), int(projects)
    key = secret.encode()
    header = b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": hashlib.sha256(key).hexdigest()[:16]},
                            separators=(",", ":")).encode())
    now = int(time.time())
    # Every seeded user with its session, in (organization, user) number order: the ids of the
    # layout grow with both numbers, and the sign-up organization made for the hash is left out.
    rows = psql(url, """
        copy (select u.org_id, u.id, s.id, u.role
              from app.users u
              join app.sessions s on s.org_id = u.org_id and s.user_id = u.id
              where u.org_id between bench.id(0, 1) and bench.id(0, 1e11::bigint)
              order by u.org_id, u.id) to stdout with (format csv)""").splitlines()
    if len(rows) != orgs * users:
        sys.exit(f"tokens: expected {orgs * users} seeded users, found {len(rows)}")
    with open(tokens_path, "wb") as out:
        for row in rows:
            org, sub, sid, role = row.split(",")
            claims = {"iss": "tenantry", "aud": "tenantry-api", "sub": sub, "org": org, "sid": sid,
                      "role": role, "iat": now, "nbf": now, "exp": now + 6 * 3600}
            signing_input = f"{header}.{b64(json.dumps(claims, separators=(',', ':')).encode())}"
            signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
            token = f"{signing_input}.{b64(signature)}"
            out.write(f"{len(token):03d}{token}".ljust(RECORD).encode())
    first, second_org, second_project = psql(
        url, "select bench.id(3, bench.project_number(0, 0)), bench.project_number(1, 0), bench.project_number(0, 1)"
    ).strip().split(",")
    prefix = first[: -12]
    with open(targets_path, "w") as out:
        out.write(
            "return {tokens = %s, record = %d, orgs = %d, users = %d, projects = %d,\n"
            "  project_prefix = %s, project_per_org = %s, project_per_number = %s}\n"
            % (json.dumps(tokens_path), RECORD, orgs, users, projects, json.dumps(prefix), second_org, second_project)
        )


if __name__ == "__main__":
    main()
