-- Webhooks in the database (migrations V25, V26), exercised with hand-written SQL as the
-- runtime role, the relay's role and its scan: only owners and admins see endpoints and
-- deliveries; nobody reads a secret back through tenantry_app; a rotation keeps the old secret
-- only when an overlap is asked for; the relay sees only the organization it entered; the scan
-- functions return ids and aggregates only.
-- Seed: fixtures/seed.psql (A: A1 owner, A2 member; B: B1 admin, B2 owner), plus one endpoint
-- per organization (EA ...e1 for A, EB ...e1 for B), one event each and a delivery of it.
begin;
select plan(19);
\ir fixtures/seed.psql

insert into app.webhook_endpoints (org_id, id, url, event_types, secret) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-7000-8000-0000000000e1',
     'https://a.example/hook', array['*'], decode(repeat('aa', 32), 'hex')),
    ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bbbbbbbb-0000-7000-8000-0000000000e1',
     'https://b.example/hook', array['*'], decode(repeat('bb', 32), 'hex'));
insert into app.event_counters (org_id, last_seq) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 1), ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 1);
insert into app.events (org_id, id, seq, type, subject_id, actor_type, actor_id, payload) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-7000-8000-0000000000f1', 1,
     'project.created', 'aaaaaaaa-0000-7000-8000-0000000000f1', 'user',
     'aaaaaaaa-0000-4000-8000-000000000001', '{}'),
    ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bbbbbbbb-0000-7000-8000-0000000000f1', 1,
     'project.created', 'bbbbbbbb-0000-7000-8000-0000000000f1', 'user',
     'bbbbbbbb-0000-4000-8000-000000000001', '{}');
insert into app.webhook_deliveries (org_id, id, endpoint_id, event_id, event_seq, event_type) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-7000-8000-0000000000d1',
     'aaaaaaaa-0000-7000-8000-0000000000e1', 'aaaaaaaa-0000-7000-8000-0000000000f1', 1, 'project.created'),
    ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bbbbbbbb-0000-7000-8000-0000000000d1',
     'bbbbbbbb-0000-7000-8000-0000000000e1', 'bbbbbbbb-0000-7000-8000-0000000000f1', 1, 'project.created');

------------------------------------------------------------------------------------------------
-- 1. The runtime role: owners and admins of one organization, never a secret.
------------------------------------------------------------------------------------------------
set local role tenantry_app;
select set_config('app.org_id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', true),
       set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000002', true),
       set_config('app.role', 'member', true);
select is((select count(*) from app.webhook_endpoints), 0::bigint, 'a member sees no endpoint');
select is((select count(*) from app.webhook_deliveries), 0::bigint, 'a member sees no delivery');
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000001', true),
       set_config('app.role', 'owner', true);
select results_eq($$select id from app.webhook_endpoints$$,
    $$values ('aaaaaaaa-0000-7000-8000-0000000000e1'::uuid)$$,
    'an owner sees the endpoints of their organization only');
select results_eq($$select id from app.webhook_deliveries$$,
    $$values ('aaaaaaaa-0000-7000-8000-0000000000d1'::uuid)$$,
    'an owner sees the deliveries of their organization only');
select throws_ok($$select secret from app.webhook_endpoints$$, '42501', null,
    'the runtime role cannot read a secret');
select throws_ok($$select previous_secret from app.webhook_endpoints$$, '42501', null,
    'nor the previous one');
select throws_ok(
    $$insert into app.webhook_deliveries (id, endpoint_id, event_id, event_seq, event_type)
      values ('cccccccc-0000-7000-8000-0000000000d1', 'aaaaaaaa-0000-7000-8000-0000000000e1',
              'aaaaaaaa-0000-7000-8000-0000000000f1', 1, 'x.y')$$,
    '42501', null, 'the runtime role does not create deliveries (the relay does)');
select is_empty($$update app.webhook_endpoints set description = 'x'
                  where id = 'bbbbbbbb-0000-7000-8000-0000000000e1' returning 1$$,
    'an owner cannot change another organization''s endpoint');

-- An INSERT cannot start an endpoint with a previous secret, failures or a disabled state.
insert into app.webhook_endpoints (id, url, event_types, secret, previous_secret,
                                   previous_secret_expires_at, consecutive_failures, disabled_reason, disabled_at)
values ('aaaaaaaa-0000-7000-8000-0000000000e2', 'https://a.example/2', array['*'],
        decode(repeat('a3', 32), 'hex'), decode(repeat('ff', 32), 'hex'), now() + interval '1 day', 99,
        'failing', now());
select results_eq(
    $$select previous_secret_expires_at, consecutive_failures, disabled_reason
      from app.webhook_endpoints where id = 'aaaaaaaa-0000-7000-8000-0000000000e2'$$,
    $$values (null::timestamptz, 0, null::text)$$,
    'a new endpoint starts with one secret, no failures, enabled');

-- Rotation: the old secret moves to previous_secret for the overlap, or is dropped without.
update app.webhook_endpoints set secret = decode(repeat('a1', 32), 'hex'),
       previous_secret_expires_at = now() + interval '1 hour'
 where id = 'aaaaaaaa-0000-7000-8000-0000000000e1';
reset role;
select is((select previous_secret from app.webhook_endpoints where id = 'aaaaaaaa-0000-7000-8000-0000000000e1'),
          decode(repeat('aa', 32), 'hex'), 'a rotation with overlap keeps the replaced secret');
set local role tenantry_app;
update app.webhook_endpoints set secret = decode(repeat('a2', 32), 'hex'),
       previous_secret_expires_at = null
 where id = 'aaaaaaaa-0000-7000-8000-0000000000e1';
reset role;
select is((select previous_secret from app.webhook_endpoints where id = 'aaaaaaaa-0000-7000-8000-0000000000e1'),
          null, 'a rotation without overlap drops it');

------------------------------------------------------------------------------------------------
-- 2. The relay's role: the organization it entered, nothing else.
------------------------------------------------------------------------------------------------
set local role tenantry_relay;
select app.relay_enter('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
select results_eq($$select id from app.webhook_endpoints$$,
    $$values ('bbbbbbbb-0000-7000-8000-0000000000e1'::uuid)$$,
    'the relay sees the endpoints of the organization it entered only');
select results_eq($$select id from app.events$$,
    $$values ('bbbbbbbb-0000-7000-8000-0000000000f1'::uuid)$$,
    'and its events only');
select is_empty($$update app.webhook_deliveries set status = 'dead'
                  where id = 'aaaaaaaa-0000-7000-8000-0000000000d1' returning id$$,
    'the relay cannot touch another organization''s delivery');
select throws_ok(
    $$insert into app.webhook_deliveries (org_id, id, endpoint_id, event_id, event_seq, event_type)
      values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'cccccccc-0000-7000-8000-0000000000d2',
              'aaaaaaaa-0000-7000-8000-0000000000e1', 'aaaaaaaa-0000-7000-8000-0000000000f1', 1, 'x.y')$$,
    '42501', null, 'nor create one there');
select throws_ok($$update app.webhook_endpoints set url = 'https://evil.example/'$$, '42501', null,
    'the relay cannot change where an endpoint points');

------------------------------------------------------------------------------------------------
-- 3. The scan functions: ids and aggregates.
------------------------------------------------------------------------------------------------
select is(array(select o from app.webhook_due_orgs(10) o order by 1),
    array['aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'::uuid, 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'::uuid],
    'webhook_due_orgs (called by the relay) names the organizations with due deliveries');
select is((select pending from app.webhook_backlog()), 2::bigint,
    'webhook_backlog counts the pending deliveries');

------------------------------------------------------------------------------------------------
-- 4. Retention: deliveries older than the period go with `tenantry purge`.
------------------------------------------------------------------------------------------------
reset role;
alter table app.webhook_deliveries disable trigger stamp_delivery;
update app.webhook_deliveries set created_at = now() - interval '10 days'
 where id = 'aaaaaaaa-0000-7000-8000-0000000000d1';
alter table app.webhook_deliveries enable trigger stamp_delivery;
select results_eq($$select kind, purged from app.purge_events(now() - interval '1 day')$$,
    $$values ('events'::text, 0::bigint), ('webhook_deliveries'::text, 1::bigint)$$,
    'purge_events deletes the old delivery only');

select * from finish();
rollback;
