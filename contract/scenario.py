"""The whole story, told through the Python client generated from openapi.yaml.

Run by scripts/contract with the generated package importable and the service at BASE_URL.
Every step asserts what a client author relies on: status codes, parsed models, and the
error envelope parsed into its model; an API key works as the client's token.
"""

import email
import email.policy
import os
import pathlib
import re
import sys
import time
import uuid

from tenantry_client import AuthenticatedClient, Client
from tenantry_client.api.api_keys import create_api_key, list_api_keys, revoke_api_key
from tenantry_client.api.auth import (
    confirm_password_reset,
    login,
    logout,
    refresh,
    request_password_reset,
    signup,
    verify_email,
)
from tenantry_client.api.invitations import (
    accept_invitation,
    create_invitation,
    list_invitations,
    resend_invitation,
    revoke_invitation,
)
from tenantry_client.api.events import list_events
from tenantry_client.api.me import get_me, resend_verification_email
from tenantry_client.api.projects import create_project, list_projects
from tenantry_client.api.users import create_user, get_user, list_users
from tenantry_client.models import (
    AcceptedInvitationDto,
    AcceptInvitationRequest,
    ApiKeyPage,
    CreateInvitationRequest,
    Invitation,
    InvitationPage,
    InvitationStatus,
    PasswordResetConfirmRequest,
    PasswordResetRequest,
    Role,
    VerifyEmailRequest,
    ApiKeyRole,
    CreateApiKeyRequest,
    CreatedApiKey,
    CreateProjectRequest,
    CreateUserRequest,
    ErrorEnvelope,
    EventPage,
    EventType,
    LoginRequest,
    MeApiKey,
    MeUserDto,
    Project,
    ProjectPage,
    RefreshRequest,
    SignupRequest,
    SignupResultDto,
    TokenDto,
    UserDto,
    UserPageDto,
)

BASE_URL = os.environ["BASE_URL"]
# Where the service writes its emails (.eml files: no SMTP server in this run).
MAIL_DIR = pathlib.Path(os.environ["MAIL_DIR"])
PASSWORD = "correct horse battery"
RUN = uuid.uuid4().hex[:8]


def expect(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok - {message}")


def token_for(recipient, kind, seen):
    """The token of the first email to `recipient` with a link of `kind` not in `seen`."""
    pattern = re.compile(r"#token=(" + kind + r"_[A-Za-z0-9_-]{86})")
    for _ in range(100):
        for path in sorted(MAIL_DIR.glob("*.eml"), key=lambda p: p.stat().st_mtime):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if recipient not in str(message["To"]):
                continue
            text = message.get_body(("plain",)).get_content()
            for token in pattern.findall(text):
                if token not in seen:
                    seen.add(token)
                    return token
        time.sleep(0.1)
    expect(False, f"an email with a {kind} link reached {recipient}")


def sign_up(slug):
    anonymous = Client(base_url=BASE_URL)
    response = signup.sync_detailed(
        client=anonymous,
        body=SignupRequest(
            org_name=f"Org {slug}",
            org_slug=slug,
            email=f"owner@{slug}.test",
            display_name="Owner",
            password=PASSWORD,
        ),
    )
    expect(response.status_code == 201, f"sign-up of {slug} answers 201")
    expect(isinstance(response.parsed, SignupResultDto), "the sign-up result is parsed")
    return response.parsed


def main():
    acme = sign_up(f"acme-{RUN}")
    globex = sign_up(f"globex-{RUN}")

    anonymous = Client(base_url=BASE_URL)
    logged_in = login.sync_detailed(
        client=anonymous,
        body=LoginRequest(org_slug=f"acme-{RUN}", email=f"OWNER@acme-{RUN}.test", password=PASSWORD),
    )
    expect(logged_in.status_code == 200 and isinstance(logged_in.parsed, TokenDto), "log-in returns tokens")
    refreshed = refresh.sync_detailed(
        client=anonymous, body=RefreshRequest(refresh_token=logged_in.parsed.refresh_token)
    )
    expect(refreshed.status_code == 200 and isinstance(refreshed.parsed, TokenDto), "refresh rotates the tokens")
    acme_client = AuthenticatedClient(base_url=BASE_URL, token=refreshed.parsed.access_token)
    globex_client = AuthenticatedClient(base_url=BASE_URL, token=globex.access_token)

    me = get_me.sync_detailed(client=acme_client)
    expect(me.status_code == 200 and isinstance(me.parsed, MeUserDto), "GET /v1/me is parsed as a user")
    expect(me.parsed.email == f"owner@acme-{RUN}.test", "the refreshed token is acme's owner")

    created = []
    for i in range(5):
        response = create_user.sync_detailed(
            client=acme_client,
            body=CreateUserRequest(email=f"user{i}@acme.test", display_name=f"User {i}", password=PASSWORD),
            idempotency_key=f"user-{i}",
        )
        expect(response.status_code == 201 and isinstance(response.parsed, UserDto), f"user {i} created")
        created.append(response.parsed)

    duplicate = create_user.sync_detailed(
        client=acme_client,
        body=CreateUserRequest(email="USER0@ACME.TEST", display_name="Dup", password=PASSWORD),
    )
    expect(duplicate.status_code == 409, "a duplicate email answers 409")
    expect(isinstance(duplicate.parsed, ErrorEnvelope), "the 409 body parses into the envelope model")
    expect(duplicate.parsed.error.code == "EMAIL_ALREADY_EXISTS", "with code EMAIL_ALREADY_EXISTS")
    expect(bool(duplicate.parsed.error.request_id), "and a request id")

    seen = []
    cursor = None
    while True:
        kwargs = {"client": acme_client, "limit": 2}
        if cursor:
            kwargs["cursor"] = cursor
        page = list_users.sync_detailed(**kwargs)
        expect(page.status_code == 200 and isinstance(page.parsed, UserPageDto), "a page of users")
        seen.extend(user.email for user in page.parsed.items)
        cursor = page.parsed.next_cursor
        if not cursor:
            break
    expect(len(seen) == 6 and len(set(seen)) == 6, "pagination walks every user once")

    for i in range(3):
        response = create_project.sync_detailed(
            client=acme_client, body=CreateProjectRequest(name=f"Project {i}")
        )
        expect(response.status_code == 201, f"project {i} created")
    projects = list_projects.sync_detailed(client=acme_client, limit=10)
    expect(isinstance(projects.parsed, ProjectPage) and len(projects.parsed.items) == 3, "projects are listed")
    events = list_events.sync_detailed(client=acme_client, type_=[EventType.PROJECT_CREATED], limit=10)
    expect(events.status_code == 200 and isinstance(events.parsed, EventPage), "events are listed")
    expect(len(events.parsed.items) == 3, "one project.created event per project")
    expect(all(isinstance(e.data, Project) for e in events.parsed.items),
           "each event's data is parsed into the typed Project model")
    expect([e.data.name for e in events.parsed.items] == ["Project 0", "Project 1", "Project 2"],
           "in commit order")

    minted = create_api_key.sync_detailed(
        client=acme_client, body=CreateApiKeyRequest(name="CI", role=ApiKeyRole.MEMBER)
    )
    expect(minted.status_code == 201 and isinstance(minted.parsed, CreatedApiKey), "an API key is created")
    expect(minted.parsed.key.startswith("tnt_") and minted.parsed.key.startswith(minted.parsed.prefix),
           "its secret is shown once, and starts with its prefix")
    key_client = AuthenticatedClient(base_url=BASE_URL, token=minted.parsed.key)
    as_key = get_me.sync_detailed(client=key_client)
    expect(as_key.status_code == 200 and isinstance(as_key.parsed, MeApiKey), "GET /v1/me with the key is parsed as a key")
    expect(as_key.parsed.id == minted.parsed.id, "the key is the caller")
    users_by_key = list_users.sync_detailed(client=key_client, limit=10)
    expect(users_by_key.status_code == 200 and len(users_by_key.parsed.items) == 6, "the key lists its organization's users")
    keys = list_api_keys.sync_detailed(client=acme_client)
    expect(isinstance(keys.parsed, ApiKeyPage) and [k.id for k in keys.parsed.items] == [minted.parsed.id],
           "the key is listed, without its secret")
    revoked = revoke_api_key.sync_detailed(client=acme_client, id=minted.parsed.id)
    expect(revoked.status_code == 204, "the key is revoked")
    dead = get_me.sync_detailed(client=key_client)
    expect(dead.status_code == 401 and dead.parsed.error.code == "API_KEY_INVALID",
           "the revoked key fails on the next request")

    # Email flows: every link is read from the email the service wrote.
    seen = set()
    anonymous = Client(base_url=BASE_URL)
    invited = f"invited-{RUN}@acme.test"
    invitation = create_invitation.sync_detailed(
        client=acme_client, body=CreateInvitationRequest(email=invited, role=Role.ADMIN)
    )
    expect(invitation.status_code == 201 and isinstance(invitation.parsed, Invitation), "an invitation is created")
    expect(invitation.parsed.status == InvitationStatus.PENDING, "and is pending")
    pending = list_invitations.sync_detailed(client=acme_client, limit=10)
    expect(isinstance(pending.parsed, InvitationPage) and len(pending.parsed.items) == 1, "it is listed")
    first = token_for(invited, "inv", seen)
    resent = resend_invitation.sync_detailed(client=acme_client, id=invitation.parsed.id)
    expect(resent.status_code == 200 and isinstance(resent.parsed, Invitation), "it is resent")
    second = token_for(invited, "inv", seen)
    stale = accept_invitation.sync_detailed(
        client=anonymous,
        body=AcceptInvitationRequest(token=first, display_name="Invited", password=PASSWORD),
    )
    expect(stale.status_code == 400 and stale.parsed.error.code == "TOKEN_INVALID", "the replaced link is refused")
    joined = accept_invitation.sync_detailed(
        client=anonymous,
        body=AcceptInvitationRequest(token=second, display_name="Invited", password=PASSWORD),
    )
    expect(joined.status_code == 201 and isinstance(joined.parsed, AcceptedInvitationDto), "the invitation is accepted")
    expect(joined.parsed.user.role == Role.ADMIN and joined.parsed.user.email_verified_at is not None,
           "as an admin whose address is verified")
    again = accept_invitation.sync_detailed(
        client=anonymous,
        body=AcceptInvitationRequest(token=second, display_name="Invited", password=PASSWORD),
    )
    expect(again.status_code == 400 and again.parsed.error.code == "TOKEN_USED", "a link works once")
    other = create_invitation.sync_detailed(client=acme_client, body=CreateInvitationRequest(email=f"gone-{RUN}@acme.test"))
    gone = revoke_invitation.sync_detailed(client=acme_client, id=other.parsed.id)
    expect(gone.status_code == 204, "an invitation is revoked")

    unverified = get_me.sync_detailed(client=globex_client)
    expect(unverified.parsed.email_verified_at is None, "a new owner's address is not verified")
    resend = resend_verification_email.sync_detailed(client=globex_client)
    expect(resend.status_code == 202, "a verification link is sent again")
    verified = verify_email.sync_detailed(
        client=anonymous, body=VerifyEmailRequest(token=token_for(f"owner@globex-{RUN}.test", "vrf", seen))
    )
    expect(verified.status_code == 200 and isinstance(verified.parsed, UserDto), "the address is verified")
    expect(verified.parsed.email_verified_at is not None, "and shows when")

    for address in (f"owner@globex-{RUN}.test", f"nobody-{RUN}@globex.test"):
        asked = request_password_reset.sync_detailed(
            client=anonymous, body=PasswordResetRequest(org_slug=f"globex-{RUN}", email=address)
        )
        expect(asked.status_code == 202, f"a password reset for {address} answers 202")
    reset = confirm_password_reset.sync_detailed(
        client=anonymous,
        body=PasswordResetConfirmRequest(
            token=token_for(f"owner@globex-{RUN}.test", "rst", seen), password="a new contract password"
        ),
    )
    expect(reset.status_code == 204, "the reset link sets the password")
    ended = get_me.sync_detailed(client=globex_client)
    expect(ended.status_code == 401, "and ends every session")
    relogged = login.sync_detailed(
        client=anonymous,
        body=LoginRequest(org_slug=f"globex-{RUN}", email=f"owner@globex-{RUN}.test", password="a new contract password"),
    )
    expect(relogged.status_code == 200, "the new password logs in")
    globex_client = AuthenticatedClient(base_url=BASE_URL, token=relogged.parsed.access_token)

    cross = get_user.sync_detailed(client=globex_client, id=created[0].id)
    expect(cross.status_code == 404, "another organization's user is not found")
    expect(isinstance(cross.parsed, ErrorEnvelope) and cross.parsed.error.code == "NOT_FOUND", "with the envelope")

    out = logout.sync_detailed(client=acme_client)
    expect(out.status_code == 204, "log-out answers 204")
    after = get_me.sync_detailed(client=acme_client)
    expect(after.status_code == 401, "the logged-out token no longer works")
    expect(after.parsed.error.code == "SESSION_REVOKED", "with code SESSION_REVOKED")

    print("scenario: all steps passed")


if __name__ == "__main__":
    main()
