"""Writes the wrk targets file: one access token per (organization, user) of the benchmark data
set, signed like the service signs them (HS256, kid = first 8 bytes of SHA-256 of the key),
with the ids a request needs. Usage: tokens.py SECRET ORGS TOKENS_PER_ORG OUT.lua"""

import base64
import hashlib
import hmac
import json
import sys
import time


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uuid(kind: int, number: int) -> str:
    return f"00000000-0000-7000-{kind:04x}-{number:012x}"


def token(secret: str, org: int, user: int) -> str:
    now = int(time.time())
    header = {"typ": "JWT", "alg": "HS256", "kid": hashlib.sha256(secret.encode()).hexdigest()[:16]}
    claims = {
        "iss": "tenantry", "aud": "tenantry-api",
        "sub": uuid(0x8001, org * 1000 + user), "org": uuid(0x8000, org),
        "sid": uuid(0x8002, org * 1000 + user),
        "role": "owner" if user == 1 else "admin" if user == 2 else "member",
        "iat": now, "nbf": now, "exp": now + 6 * 3600,
    }
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def main() -> None:
    secret, orgs, per_org, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    step = max(1, orgs // 1000)  # at most ~1000 organizations' tokens, spread over all of them
    rows = []
    for org in range(1, orgs + 1, step):
        for user in range(1, per_org + 1):
            rows.append(
                "{token=%s, org=%d, user=%d, project=%s}"
                % (json.dumps(token(secret, org, user)), org, user, json.dumps(uuid(0x8003, org * 100000 + user)))
            )
    with open(out, "w") as f:
        f.write("return {\n" + ",\n".join(rows) + "\n}\n")


if __name__ == "__main__":
    main()
