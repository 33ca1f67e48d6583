-- The email outbox: every email the service sends (invitations, password resets, address
-- verifications, notices) is first a row of app.outbound_emails, written in the same tenant
-- transaction as the change that causes it. Nothing talks to an SMTP server inside a request:
-- the mail worker (src/mail) claims due rows one organization at a time and sends them, so a
-- crash or an SMTP outage delays an email but never loses it (delivery is at least once).
--
-- A row holds the template's data, not the rendered text: the worker renders it when it sends
-- (templates/email). An email that carries a link with a token holds the link (`data->'link'`)
-- only until it is sent or given up: the worker then removes it, so that no usable token
-- stays in a table that outlives it. The token's hash lives in its own table
-- (app.invitations, app.user_tokens), which is what redeeming it checks.
--
-- The worker runs through three narrow SECURITY DEFINER functions owned by tenantry_mailer
-- (NOLOGIN, NOBYPASSRLS), which reads and updates this table only, through policies that exist
-- for it alone. Like the other SECURITY DEFINER functions, only tenantry_anon may execute them
-- (the worker's transaction, src/db/tx.rs WorkerTx, runs as that role, without any tenant
-- context), and they refuse to run inside a tenant context.

do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'tenantry_mailer') then
        create role tenantry_mailer nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null; -- another database's migration created it concurrently
end
$$;
alter role tenantry_mailer nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
grant usage on schema app to tenantry_mailer;
-- The audit trigger (app.stamp_timestamps) runs as the role that updates: the worker's updates
-- name no actor.
grant execute on function app.current_user_id(), app.current_api_key_id(),
    app.current_actor_type(), app.current_actor_id() to tenantry_mailer;

create table app.outbound_emails (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    -- Which template renders it (src/mail/templates.rs lists them).
    kind text not null,
    recipient text not null,
    -- The template's variables; `link` (a URL with a token) is removed once sent or failed.
    data jsonb not null,
    status text not null default 'queued',
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    -- The SMTP server's last answer or the connection error, short, never the message.
    last_error text,
    sent_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    created_by_type text,
    updated_by uuid,
    updated_by_type text,
    constraint pk_outbound_emails primary key (org_id, id),
    constraint fk_outbound_emails_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint ck_outbound_emails_kind check (kind in (
        'invitation', 'password_reset', 'password_changed', 'verify_email', 'email_changed')),
    constraint ck_outbound_emails_recipient check (length(recipient) between 3 and 254),
    constraint ck_outbound_emails_status check (status in ('queued', 'sent', 'failed')),
    constraint ck_outbound_emails_last_error check (length(last_error) <= 500)
);

-- The worker's scan: due emails of one organization, oldest first.
create index ix_outbound_emails_due on app.outbound_emails (org_id, next_attempt_at)
    where status = 'queued';

create trigger stamp_timestamps before insert or update on app.outbound_emails
    for each row execute function app.stamp_timestamps();

alter table app.outbound_emails enable row level security;
alter table app.outbound_emails force row level security;

-- Requests queue emails in their organization and read nothing back (owners and admins may,
-- for support); they never update or delete one (no grant; the policies complete the set).
create policy outbound_emails_select on app.outbound_emails for select to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'));
create policy outbound_emails_insert on app.outbound_emails for insert to tenantry_app
    with check (org_id = app.current_org_id());
create policy outbound_emails_update on app.outbound_emails for update to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() = 'owner')
    with check (org_id = app.current_org_id());
create policy outbound_emails_delete on app.outbound_emails for delete to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() = 'owner');
grant select, insert on app.outbound_emails to tenantry_app;

create policy outbound_emails_mailer_select on app.outbound_emails for select to tenantry_mailer
    using (true);
create policy outbound_emails_mailer_update on app.outbound_emails for update to tenantry_mailer
    using (true) with check (true);
grant select, update (data, status, attempts, next_attempt_at, last_error, sent_at)
    on app.outbound_emails to tenantry_mailer;

-- The worker's functions refuse a tenant context: only the worker's transaction, which has
-- none, calls them.
create function app.require_no_tenant() returns void
    language plpgsql stable
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if nullif(pg_catalog.current_setting('app.org_id', true), '') is not null then
        raise exception 'the mail worker''s functions run outside any tenant context'
            using errcode = '42501';
    end if;
end
$$;
revoke all on function app.require_no_tenant() from public;
grant execute on function app.require_no_tenant() to tenantry_mailer;

-- Organizations with due emails, at most p_limit of them. The one query that spans
-- organizations (on Citus it asks every shard); each claim is then single-organization.
create function app.mail_due_orgs(p_limit integer) returns setof uuid
    language plpgsql stable security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform app.require_no_tenant();
    return query
        select e.org_id from app.outbound_emails e
         where e.status = 'queued' and e.next_attempt_at <= now()
         group by e.org_id
         order by min(e.next_attempt_at)
         limit p_limit;
end
$$;

-- Claims up to p_limit due emails of one organization: each attempt is counted and the email
-- leased for p_lease (another worker does not take it meanwhile; a worker that dies leaves it
-- to be claimed again when the lease ends). Concurrent claims skip each other's rows.
create function app.claim_emails(p_org_id uuid, p_limit integer, p_lease interval)
    returns table (id uuid, kind text, recipient text, data jsonb, attempts integer)
    language plpgsql volatile security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_org uuid := p_org_id;
begin
    perform app.require_no_tenant();
    return query
        update app.outbound_emails e
           set attempts = e.attempts + 1, next_attempt_at = now() + p_lease
         where e.org_id = v_org
           and e.id in (select d.id from app.outbound_emails d
                         where d.org_id = v_org and d.status = 'queued'
                           and d.next_attempt_at <= now()
                         order by d.next_attempt_at
                         limit p_limit
                         for update skip locked)
        returning e.id, e.kind, e.recipient, e.data, e.attempts;
end
$$;

-- Records what sending did: 'sent', 'failed' (a permanent refusal, or too many attempts) or
-- 'retry' (at p_retry_at). Sent and failed emails lose their link.
create function app.finish_email(p_org_id uuid, p_id uuid, p_outcome text, p_error text,
                                 p_retry_at timestamptz)
    returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_org uuid := p_org_id;
    v_error text := pg_catalog.left(p_error, 500);
begin
    perform app.require_no_tenant();
    if p_outcome = 'sent' then
        update app.outbound_emails e
           set status = 'sent', sent_at = now(), data = e.data - 'link', last_error = null
         where e.org_id = v_org and e.id = p_id;
    elsif p_outcome = 'failed' then
        update app.outbound_emails e
           set status = 'failed', data = e.data - 'link', last_error = v_error
         where e.org_id = v_org and e.id = p_id;
    elsif p_outcome = 'retry' then
        update app.outbound_emails e
           set next_attempt_at = p_retry_at, last_error = v_error
         where e.org_id = v_org and e.id = p_id and e.status = 'queued';
    else
        raise exception 'unknown outcome %', p_outcome using errcode = '22023';
    end if;
end
$$;

revoke all on function app.mail_due_orgs(integer), app.claim_emails(uuid, integer, interval),
    app.finish_email(uuid, uuid, text, text, timestamptz) from public;
grant execute on function app.mail_due_orgs(integer), app.claim_emails(uuid, integer, interval),
    app.finish_email(uuid, uuid, text, text, timestamptz) to tenantry_anon;

-- Hand the functions to tenantry_mailer (as V3 does for tenantry_auth), then take back the
-- membership that allowed it: nobody may act as tenantry_mailer.
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_mailer to %I', current_user);
    end if;
end
$$;
grant create on schema app to tenantry_mailer;
alter function app.mail_due_orgs(integer) owner to tenantry_mailer;
alter function app.claim_emails(uuid, integer, interval) owner to tenantry_mailer;
alter function app.finish_email(uuid, uuid, text, text, timestamptz) owner to tenantry_mailer;
revoke create on schema app from tenantry_mailer;
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_mailer from %I', current_user);
    end if;
end
$$;

select app.distribute_table('app.outbound_emails');
