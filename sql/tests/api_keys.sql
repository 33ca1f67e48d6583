-- API keys in the database (migration V19), exercised as the runtime role with hand-written
-- SQL: only owners and admins (people) see and manage keys, only an owner mints an admin key,
-- a key sees nothing of another organization's keys and cannot create or revoke keys,
-- app.enter_key lets in the right key only (its organization, id and secret; neither revoked
-- nor expired) and records who acted.
-- Seed: fixtures/seed.psql (A: A1 owner, A2 member; B: B1 admin, B2 owner), plus keys:
--   KA  A's member key  ...a1, secret 'ka'      KB  B's admin key  ...b1, secret 'kb'
--   KR  A's revoked key ...a2, secret 'kr'      KE  A's expired key ...a3, secret 'ke'
begin;
select plan(30);
\ir fixtures/seed.psql

insert into app.api_keys (org_id, id, name, role, secret_hash, revoked_at) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000a1', 'KA', 'member',
     sha256('ka'), null),
    ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bbbbbbbb-0000-4000-8000-0000000000b1', 'KB', 'admin',
     sha256('kb'), null),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000a2', 'KR', 'admin',
     sha256('kr'), now()),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000a3', 'KE', 'admin',
     sha256('ke'), null);
-- KE was created two hours ago and expired one hour ago (the audit trigger stamps created_at
-- on insert, and keeps it when expires_at changes).
update app.api_keys set created_at = now() - interval '2 hours'
 where id = 'aaaaaaaa-0000-4000-8000-0000000000a3';
update app.api_keys set expires_at = now() - interval '1 hour'
 where id = 'aaaaaaaa-0000-4000-8000-0000000000a3';

------------------------------------------------------------------------------------------------
-- 1. Constant-time comparison.
------------------------------------------------------------------------------------------------
select ok(app.same_hash(sha256('x'), sha256('x')), 'same_hash: equal digests');
select ok(not app.same_hash(sha256('x'), sha256('y')), 'same_hash: different digests');
select ok(not app.same_hash(sha256('x'), '\x00'::bytea), 'same_hash: different lengths');

------------------------------------------------------------------------------------------------
-- 2. app.enter_key, as the service calls it.
------------------------------------------------------------------------------------------------
set local role tenantry_app;
select is(app.enter_key('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000a1',
                        sha256('ka')),
          'member', 'enter_key: the right key enters with its role');
select is(app.current_user_role(), 'member', 'enter_key: app.role is the key''s');
select is(app.current_org_id(), 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'::uuid,
          'enter_key: the organization is the key''s');
select is(app.current_user_id(), null, 'enter_key: a key is nobody: app.user_id stays unset');
select is(app.current_actor_type(), 'api_key', 'enter_key: the actor is an API key');
select is(app.current_actor_id(), 'aaaaaaaa-0000-4000-8000-0000000000a1'::uuid,
          'enter_key: the actor is this key');
select results_eq($$select id from app.api_keys$$,
    $$values ('aaaaaaaa-0000-4000-8000-0000000000a1'::uuid)$$,
    'a member key sees its own row only');
select throws_ok(
    $$insert into app.api_keys (id, name, role, secret_hash)
      values ('cccccccc-0000-4000-8000-0000000000c1', 'minted by a key', 'member', sha256('c'))$$,
    '42501', null, 'a key cannot create keys');
select throws_ok(
    $$update app.api_keys set revoked_at = now() where id = 'aaaaaaaa-0000-4000-8000-0000000000a1'$$,
    '42501', null, 'a key cannot revoke keys, not even itself');
select throws_ok($$update app.api_keys set role = 'admin'$$, '42501', null,
    'nobody changes a key''s role through the runtime role');
insert into app.idempotency_keys (key, operation, request_hash, expires_at)
    values ('written by a key', 'createProject', '\x00', now() + interval '1 day');
reset role;
select results_eq(
    $$select created_by, created_by_type, updated_by_type from app.idempotency_keys
       where key = 'written by a key'$$,
    $$values ('aaaaaaaa-0000-4000-8000-0000000000a1'::uuid, 'api_key', 'api_key')$$,
    'audit: what a key writes names the key');
select isnt((select last_used_at from app.api_keys where id = 'aaaaaaaa-0000-4000-8000-0000000000a1'),
    null, 'enter_key: the use is recorded');

-- Each refusal in a savepoint of its own (a failed statement aborts the transaction).
create function pg_temp.refused(p_org uuid, p_key uuid, p_hash bytea) returns text
    language plpgsql as $$
begin
    set local role tenantry_app;
    perform app.enter_key(p_org, p_key, p_hash);
    reset role;
    return 'entered';
exception when others then
    reset role;
    return sqlstate;
end
$$;
select is(pg_temp.refused('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000a1',
                          sha256('wrong')), '28P01', 'enter_key: a wrong secret is refused');
select is(pg_temp.refused('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'aaaaaaaa-0000-4000-8000-0000000000a1',
                          sha256('ka')), '28P01', 'enter_key: A''s key with B''s organization is refused');
select is(pg_temp.refused('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bbbbbbbb-0000-4000-8000-0000000000b1',
                          sha256('ka')), '28P01', 'enter_key: B''s key id with A''s secret is refused');
select is(pg_temp.refused('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000a2',
                          sha256('kr')), '28P01', 'enter_key: a revoked key is refused');
select is(pg_temp.refused('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000a3',
                          sha256('ke')), '28P01', 'enter_key: an expired key is refused');
select is(pg_temp.refused('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000',
                          sha256('\x00'::bytea)), '28P01', 'enter_key: a key that names nothing is refused');
select is(pg_temp.refused(null, null, null), '28P01', 'enter_key: no key at all is refused');

------------------------------------------------------------------------------------------------
-- 3. People: owners and admins manage keys; admins mint member keys only; members see none.
------------------------------------------------------------------------------------------------
set local role tenantry_app;
select set_config('app.api_key_id', '', true);
select set_config('app.org_id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', true);
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000002', true);
select set_config('app.role', 'member', true);
select is_empty($$select id from app.api_keys$$, 'a member sees no key');
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000001', true);
select set_config('app.role', 'owner', true);
select results_eq($$select count(*) from app.api_keys$$, array[3::bigint],
    'an owner sees the organization''s keys, and only them');
select lives_ok(
    $$insert into app.api_keys (id, name, role, secret_hash)
      values ('aaaaaaaa-0000-4000-8000-0000000000a4', 'owner''s admin key', 'admin', sha256('a4'))$$,
    'an owner mints an admin key');
select throws_ok(
    $$insert into app.api_keys (id, name, role, secret_hash)
      values ('cccccccc-0000-4000-8000-0000000000c4', 'an owner key', 'owner', sha256('c4'))$$,
    '23514', null, 'no key is an owner, not even an owner''s');
select set_config('app.role', 'admin', true);
select throws_ok(
    $$insert into app.api_keys (id, name, role, secret_hash)
      values ('cccccccc-0000-4000-8000-0000000000c3', 'admin''s admin key', 'admin', sha256('c3'))$$,
    '42501', null, 'an admin cannot mint an admin key');
select results_eq(
    $$with x as (update app.api_keys set revoked_at = now() where org_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' returning 1)
      select count(*) from x$$,
    array[0::bigint], 'revoking another organization''s key touches 0 rows');
select results_eq(
    $$with x as (update app.api_keys set revoked_at = now() where id = 'aaaaaaaa-0000-4000-8000-0000000000a4' returning 1)
      select count(*) from x$$,
    array[1::bigint], 'an admin revokes a key of the organization');
select throws_ok(
    $$update app.api_keys set revoked_at = null where id = 'aaaaaaaa-0000-4000-8000-0000000000a4'$$,
    '42501', null, 'a revoked key stays revoked');

select * from finish();
rollback;
