-- Events in the database (migration V20), as the runtime role with hand-written SQL: an event
-- is written through app.emit_event only into the transaction's organization, with the seq of
-- the organization's counter and the transaction's actor (never a forged one); events are
-- immutable; owners and admins read their organization's events, members and other
-- organizations none; a rolled-back write leaves neither an event nor a counter change; purge
-- deletes old events only.
-- Seed: fixtures/seed.psql (A: A1 owner, A2 member; B: B1 admin, B2 owner).
begin;
select plan(26);
\ir fixtures/seed.psql

set local role tenantry_app;
set local app.org_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
set local app.user_id = 'aaaaaaaa-0000-4000-8000-000000000001';
set local app.role = 'owner';

------------------------------------------------------------------------------------------------
-- 1. Writing.
------------------------------------------------------------------------------------------------
select is(app.emit_event('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-7000-8000-0000000000e1',
                         'project.created', 'aaaaaaaa-0000-4000-8000-0000000000f1', 'req-1',
                         '{"id": "aaaaaaaa-0000-4000-8000-0000000000f1"}'),
          1::bigint, 'the first event of an organization has seq 1');
select is(app.emit_event('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-7000-8000-0000000000e2',
                         'project.updated', 'aaaaaaaa-0000-4000-8000-0000000000f1', '', '{}'),
          2::bigint, 'the next one has seq 2');
select results_eq(
    $$select seq, actor_type, actor_id, request_id from app.events order by seq$$,
    $$values (1::bigint, 'user'::text, 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'req-1'::text),
             (2::bigint, 'user'::text, 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, null::text)$$,
    'the actor is the transaction''s; an empty request id is stored as NULL');
select ok((select bool_and(created_at = now()) from app.events),
    'created_at is the transaction''s time');
select throws_ok(
    $$select app.emit_event('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'cccccccc-0000-7000-8000-0000000000e3',
                            'project.created', 'cccccccc-0000-4000-8000-0000000000f1', 'r', '{}')$$,
    '42501', null, 'no event for another organization');
savepoint forged;
insert into app.events (org_id, id, seq, type, subject_id, actor_type, actor_id, payload, created_at)
    values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'cccccccc-0000-7000-8000-0000000000e4', 99,
            'project.created', 'cccccccc-0000-4000-8000-0000000000f1', 'api_key',
            'aaaaaaaa-0000-4000-8000-000000000002', '{}', '2000-01-01');
select results_eq(
    $$select actor_type, actor_id, created_at = now() from app.events where seq = 99$$,
    $$values ('user'::text, 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, true)$$,
    'a forged actor and time are replaced by the transaction''s (app.stamp_event)');
rollback to savepoint forged;
select throws_ok(
    $$insert into app.events (org_id, id, seq, type, subject_id, payload)
      values ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'cccccccc-0000-7000-8000-0000000000e5', 99,
              'project.created', 'cccccccc-0000-4000-8000-0000000000f1', '{}')$$,
    '42501', null, 'a direct insert into another organization is refused by RLS');
select throws_ok(
    $$select app.emit_event('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'cccccccc-0000-7000-8000-0000000000e6',
                            'Project Created', 'cccccccc-0000-4000-8000-0000000000f1', 'r', '{}')$$,
    '23514', null, 'a type of another shape is refused (ck_events_type)');
select throws_ok(
    $$select app.emit_event('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'cccccccc-0000-7000-8000-0000000000e7',
                            'project.created', 'cccccccc-0000-4000-8000-0000000000f1', 'r', '[]')$$,
    '23514', null, 'a payload that is not an object is refused (ck_events_payload)');

------------------------------------------------------------------------------------------------
-- 2. A rolled-back write leaves nothing.
------------------------------------------------------------------------------------------------
savepoint before_rollback;
select app.emit_event('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'cccccccc-0000-7000-8000-0000000000e8',
                      'project.deleted', 'cccccccc-0000-4000-8000-0000000000f1', 'r', '{}');
rollback to savepoint before_rollback;
select is((select count(*) from app.events), 2::bigint, 'a rolled-back event is gone');
select is((select last_seq from app.event_counters), 2::bigint,
    'and the counter is back: the next event takes seq 3, no gap');

------------------------------------------------------------------------------------------------
-- 3. Immutable.
------------------------------------------------------------------------------------------------
select throws_ok($$update app.events set payload = '{"forged": true}'$$, '42501', null,
    'events cannot be changed');
select throws_ok($$delete from app.events$$, '42501', null, 'events cannot be deleted');
select throws_ok($$delete from app.event_counters$$, '42501', null,
    'the counter cannot be deleted');
select throws_ok(
    $$update app.event_counters set org_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'$$, '42501', null,
    'the counter cannot move to another organization');

------------------------------------------------------------------------------------------------
-- 4. Who reads.
------------------------------------------------------------------------------------------------
set local app.user_id = 'aaaaaaaa-0000-4000-8000-000000000002';
set local app.role = 'member';
select is((select count(*) from app.events), 0::bigint, 'a member of A sees no event');
set local app.org_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
set local app.user_id = 'bbbbbbbb-0000-4000-8000-000000000001';
set local app.role = 'admin';
select is((select count(*) from app.events), 0::bigint, 'an admin of B sees none of A''s events');
select is((select count(*) from app.event_counters), 0::bigint, 'nor A''s counter');
select is(app.emit_event('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bbbbbbbb-0000-7000-8000-0000000000e1',
                         'user.updated', 'bbbbbbbb-0000-4000-8000-000000000002', 'r', '{}'),
          1::bigint, 'B''s events have their own sequence');
select is((select count(*) from app.events), 1::bigint, 'B''s admin reads B''s event');

------------------------------------------------------------------------------------------------
-- 4b. The webhook relay (V27) records what it does by itself (disabling an endpoint): in the
-- organization it entered only, and with no actor, whatever its statement names.
------------------------------------------------------------------------------------------------
reset role;
savepoint relay;
set local app.user_id = '';
set local app.role = '';
set local role tenantry_relay;
set local app.org_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
select ok(app.emit_event('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-7000-8000-0000000000e9',
                         'webhook_endpoint.disabled', 'aaaaaaaa-0000-4000-8000-0000000000f9', null,
                         '{}') > 0,
    'the relay records an event in the organization it entered');
insert into app.events (org_id, id, seq, type, subject_id, actor_type, actor_id, payload)
    values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-7000-8000-0000000000ea', 98,
            'webhook_endpoint.disabled', 'aaaaaaaa-0000-4000-8000-0000000000f9', 'user',
            'aaaaaaaa-0000-4000-8000-000000000001', '{}');
select throws_ok(
    $$select app.emit_event('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'cccccccc-0000-7000-8000-0000000000eb',
                            'webhook_endpoint.disabled', 'cccccccc-0000-4000-8000-0000000000f9', null, '{}')$$,
    '42501', null, 'the relay writes no event for another organization');
select throws_ok(
    $$insert into app.events (org_id, id, seq, type, subject_id, payload)
      values ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'cccccccc-0000-7000-8000-0000000000ec', 97,
              'webhook_endpoint.disabled', 'cccccccc-0000-4000-8000-0000000000f9', '{}')$$,
    '42501', null, 'nor inserts one there directly (RLS)');
reset role;
select results_eq(
    $$select actor_type, actor_id from app.events
      where id in ('aaaaaaaa-0000-7000-8000-0000000000e9', 'aaaaaaaa-0000-7000-8000-0000000000ea')$$,
    $$values (null::text, null::uuid), (null::text, null::uuid)$$,
    'the relay''s events have no actor, even one it names (app.stamp_event)');
rollback to savepoint relay;

------------------------------------------------------------------------------------------------
-- 5. Retention: purge deletes events older than the cut-off, of every organization.
------------------------------------------------------------------------------------------------
reset role;
update app.events set created_at = now() - interval '10 days'
 where id = 'aaaaaaaa-0000-7000-8000-0000000000e1';
select results_eq($$select kind, purged from app.purge_events(now() - interval '1 day')$$,
    $$values ('events'::text, 1::bigint), ('webhook_deliveries'::text, 0::bigint)$$,
    'purge_events deletes the old event only');
select results_eq($$select id from app.events order by id$$,
    $$values ('aaaaaaaa-0000-7000-8000-0000000000e2'::uuid), ('bbbbbbbb-0000-7000-8000-0000000000e1'::uuid)$$,
    'the recent events stay');

select * from finish();
rollback;
