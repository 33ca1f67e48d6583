"""Mints one API key (role member) per benchmark organization through the running service
(POST /v1/api-keys with the organization owner's access token: the key's format is the
service's own), and writes them for wrk in fixed-size records, organization o at record o - 1.

Usage: keys.py URL TOKENS ORGS USERS KEYS"""

import http.client
import json
import sys
import urllib.parse

RECORD = 512  # as tokens.py


def main() -> None:
    url, tokens_path, orgs, users, keys_path = sys.argv[1:6]
    orgs, users = int(orgs), int(users)
    parsed = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port)
    with open(tokens_path, "rb") as tokens, open(keys_path, "wb") as out:
        for o in range(orgs):
            # User 1 of each organization is its owner (seed.sql).
            tokens.seek(o * users * RECORD)
            record = tokens.read(RECORD)
            token = record[3:3 + int(record[:3])].decode()
            body = json.dumps({"name": "bench", "role": "member"})
            conn.request("POST", "/v1/api-keys", body,
                         {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 201:
                sys.exit(f"keys: POST /v1/api-keys answered {resp.status}: {data[:200]!r}")
            key = json.loads(data)["key"]
            out.write(f"{len(key):03d}{key}".ljust(RECORD).encode())


if __name__ == "__main__":
    main()
