-- Email in the database (migrations V30 to V32), exercised with hand-written SQL as the roles
-- the service uses: the outbox is written in a tenant's context and read back by nobody but
-- its owners and admins; the mail worker's functions serve one organization per call, only
-- outside any tenant context, and drop the link once sent; invitation and user tokens are seen
-- by their organization's managers or their user only, and redeemed once, with the right
-- secret, in their own organization only.
-- Seed: fixtures/seed.psql (A: A1 owner, A2 member; B: B1 admin, B2 owner).
begin;
-- pgTAP compares result sets through temporary tables it creates as the current role, which
-- migration V15 forbids to the request roles (no TEMP on the database); this grant is rolled
-- back with the test.
do $$
begin
    execute format('grant temporary on database %I to tenantry_app, tenantry_anon',
                   current_database());
end
$$;
select plan(33);
\ir fixtures/seed.psql

------------------------------------------------------------------------------------------------
-- 1. The outbox, as requests write it.
------------------------------------------------------------------------------------------------
set local role tenantry_app;
select set_config('app.org_id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', true);
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000002', true);
select set_config('app.role', 'member', true);
select lives_ok(
    $$insert into app.outbound_emails (id, kind, recipient, data)
      values ('aaaaaaaa-0000-4000-8000-0000000000e1', 'verify_email', 'alice@a.example',
              '{"link": "https://x/verify-email#token=secret-a"}')$$,
    'a member queues an email in its organization');
select results_eq($$select count(*) from app.outbound_emails$$, array[0::bigint],
    'a member reads no email back');
select throws_ok(
    $$insert into app.outbound_emails (org_id, id, kind, recipient, data)
      values ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'cccccccc-0000-4000-8000-0000000000e1',
              'verify_email', 'x@b.example', '{}')$$,
    '42501', null, 'no email is queued in another organization');
select throws_ok($$update app.outbound_emails set status = 'sent'$$, '42501', null,
    'requests cannot mark an email sent');
select throws_ok($$select app.claim_emails('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 10, '1 minute')$$,
    '42501', null, 'the runtime role cannot call the mail worker''s functions');
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000001', true);
select set_config('app.role', 'owner', true);
select results_eq($$select kind from app.outbound_emails$$, array['verify_email'],
    'an owner reads its organization''s emails');
select set_config('app.org_id', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', true);
select set_config('app.user_id', 'bbbbbbbb-0000-4000-8000-000000000002', true);
select lives_ok(
    $$insert into app.outbound_emails (id, kind, recipient, data)
      values ('bbbbbbbb-0000-4000-8000-0000000000e1', 'invitation', 'new@b.example',
              '{"link": "https://x/accept-invitation#token=secret-b"}')$$,
    'B queues an email');
select results_eq($$select recipient from app.outbound_emails$$, array['new@b.example'],
    'B''s owner sees B''s email only');
reset role;

------------------------------------------------------------------------------------------------
-- 2. The mail worker's functions, as the worker calls them (tenantry_anon, no context).
------------------------------------------------------------------------------------------------
set local role tenantry_anon;
select set_config('app.org_id', '', true);
select set_config('app.user_id', '', true);
select set_config('app.role', '', true);
select set_eq($$select * from app.mail_due_orgs(10)$$,
    array['aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb']::uuid[],
    'the organizations with due emails');
select results_eq(
    $$select id, attempts from app.claim_emails('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 10, '1 minute')$$,
    $$values ('aaaaaaaa-0000-4000-8000-0000000000e1'::uuid, 1)$$,
    'a claim takes one organization''s due emails and counts the attempt');
select is_empty(
    $$select id from app.claim_emails('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 10, '1 minute')$$,
    'a claimed email is leased: a second claim does not take it');
select set_eq($$select * from app.mail_due_orgs(10)$$,
    array['bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb']::uuid[],
    'a leased email is not due');
select lives_ok(
    $$select app.finish_email('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
                              'aaaaaaaa-0000-4000-8000-0000000000e1', 'sent', null, now())$$,
    'the worker records a sent email');
select throws_ok($$select count(*) from app.outbound_emails$$, '42501', null,
    'the worker''s role reads no table itself');
select throws_ok(
    $$select app.finish_email('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
                              'bbbbbbbb-0000-4000-8000-0000000000e1', 'bounced', null, now())$$,
    '22023', null, 'an unknown outcome is refused');
select set_config('app.org_id', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', true);
select throws_ok($$select * from app.claim_emails('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 10, '1 minute')$$,
    '42501', null, 'the worker''s functions refuse a tenant context');
reset role;
select results_eq(
    $$select status, sent_at is not null, data ? 'link' from app.outbound_emails
      where id = 'aaaaaaaa-0000-4000-8000-0000000000e1'$$,
    $$values ('sent', true, false)$$,
    'a sent email keeps no link (and so no token)');
select results_eq(
    $$select status, data ? 'link' from app.outbound_emails
      where id = 'bbbbbbbb-0000-4000-8000-0000000000e1'$$,
    $$values ('queued', true)$$,
    'an email of another organization is untouched');

------------------------------------------------------------------------------------------------
-- 3. Invitations.
------------------------------------------------------------------------------------------------
insert into app.invitations (org_id, id, email, role, token_hash, expires_at, invited_by) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000f1',
     'new@a.example', 'admin', sha256('inv-a'), now() + interval '7 days',
     'aaaaaaaa-0000-4000-8000-000000000001');
set local role tenantry_app;
select set_config('app.org_id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', true);
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000002', true);
select set_config('app.role', 'member', true);
select results_eq($$select count(*) from app.invitations$$, array[0::bigint],
    'a member sees no invitation');
select throws_ok(
    $$insert into app.invitations (id, email, role, token_hash, expires_at, invited_by)
      values ('cccccccc-0000-4000-8000-0000000000f1', 'x@a.example', 'member', sha256('x'),
              now() + interval '1 day', 'aaaaaaaa-0000-4000-8000-000000000002')$$,
    '42501', null, 'a member cannot invite');
select set_config('app.org_id', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', true);
select set_config('app.user_id', 'bbbbbbbb-0000-4000-8000-000000000001', true);
select set_config('app.role', 'admin', true);
select results_eq($$select count(*) from app.invitations$$, array[0::bigint],
    'another organization''s admin sees no invitation of A');
select throws_ok(
    $$insert into app.invitations (id, email, role, token_hash, expires_at, invited_by)
      values ('cccccccc-0000-4000-8000-0000000000f2', 'boss@b.example', 'owner', sha256('x'),
              now() + interval '1 day', 'bbbbbbbb-0000-4000-8000-000000000001')$$,
    '42501', null, 'an admin cannot invite an owner');
-- Redeeming: a fresh token transaction has only the organization the token names.
select set_config('app.user_id', '', true);
select set_config('app.role', '', true);
select results_eq(
    $$select outcome from app.redeem_invitation('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
        'aaaaaaaa-0000-4000-8000-0000000000f1', sha256('inv-a'), 'cccccccc-0000-4000-8000-000000000001')$$,
    array['invalid'], 'a token names its own organization: A''s invitation is not B''s');
select set_config('app.org_id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', true);
select results_eq(
    $$select outcome from app.redeem_invitation('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        'aaaaaaaa-0000-4000-8000-0000000000f1', sha256('guess'), 'cccccccc-0000-4000-8000-000000000001')$$,
    array['invalid'], 'another secret is refused');
select results_eq(
    $$select outcome, email, role from app.redeem_invitation('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        'aaaaaaaa-0000-4000-8000-0000000000f1', sha256('inv-a'), 'aaaaaaaa-0000-4000-8000-000000000009')$$,
    $$values ('accepted', 'new@a.example', 'admin')$$, 'the right token is accepted');
select is(app.current_user_id(), 'aaaaaaaa-0000-4000-8000-000000000001'::uuid,
    'accepting enters the inviter''s context');
select is(app.current_user_role(), 'owner', 'with the inviter''s role as stored now');
select results_eq(
    $$select outcome from app.redeem_invitation('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        'aaaaaaaa-0000-4000-8000-0000000000f1', sha256('inv-a'), 'aaaaaaaa-0000-4000-8000-00000000000a')$$,
    array['accepted_before'], 'an invitation is accepted once');
reset role;

------------------------------------------------------------------------------------------------
-- 4. Password reset and verification tokens.
------------------------------------------------------------------------------------------------
insert into app.user_tokens (org_id, id, user_id, kind, email, token_hash, expires_at) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000d1',
     'aaaaaaaa-0000-4000-8000-000000000002', 'password_reset', null, sha256('rst-a'),
     now() + interval '30 minutes'),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000d2',
     'aaaaaaaa-0000-4000-8000-000000000002', 'password_reset', null, sha256('old-a'),
     now() - interval '1 minute');
set local role tenantry_app;
select set_config('app.org_id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', true);
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000001', true);
select set_config('app.role', 'owner', true);
select results_eq($$select count(*) from app.user_tokens$$, array[0::bigint],
    'nobody but the user sees their tokens, not even an owner');
select set_config('app.user_id', '', true);
select set_config('app.role', '', true);
select results_eq(
    $$select outcome from app.redeem_user_token('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        'aaaaaaaa-0000-4000-8000-0000000000d1', 'verify_email', sha256('rst-a'))$$,
    array['invalid'], 'a token of another kind is refused');
select results_eq(
    $$select outcome from app.redeem_user_token('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        'aaaaaaaa-0000-4000-8000-0000000000d2', 'password_reset', sha256('old-a'))$$,
    array['expired'], 'an expired token is refused');
select results_eq(
    $$select outcome, user_id from app.redeem_user_token('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        'aaaaaaaa-0000-4000-8000-0000000000d1', 'password_reset', sha256('rst-a'))$$,
    $$values ('used_now', 'aaaaaaaa-0000-4000-8000-000000000002'::uuid)$$,
    'the right token is used, and enters its user''s context');
select results_eq(
    $$select outcome from app.redeem_user_token('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        'aaaaaaaa-0000-4000-8000-0000000000d1', 'password_reset', sha256('rst-a'))$$,
    array['used'], 'a token is used once');
reset role;

select * from finish();
rollback;
