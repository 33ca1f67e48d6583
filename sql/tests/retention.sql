-- Retention (migration V8): the maintenance role sees and deletes only rows that are already
-- soft-deleted or expired, and app.purge respects the retention cut-off.
begin;
-- pgTAP compares result sets through temporary tables it creates as the current role, which
-- migration V15 forbids to the request roles (no TEMP on the database); this grant is rolled
-- back with the test.
do $$
begin
    execute format('grant temporary on database %I to tenantry_app, tenantry_maintenance',
                   current_database());
end
$$;
select plan(10);
\ir fixtures/seed.psql

insert into app.projects (org_id, id, name, owner_id, deleted_at) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000001', 'live',
     'aaaaaaaa-0000-4000-8000-000000000002', null),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000002', 'old',
     'aaaaaaaa-0000-4000-8000-000000000001', now() - interval '40 days'),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000003', 'recent',
     'aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day');
-- A2 (member) removed long ago but still owning the live project; B1 removed long ago.
update app.users set deleted_at = now() - interval '40 days'
 where id in ('aaaaaaaa-0000-4000-8000-000000000002', 'bbbbbbbb-0000-4000-8000-000000000001');

set local role tenantry_maintenance;
select set_eq('select id from app.users',
    array['aaaaaaaa-0000-4000-8000-000000000002', 'bbbbbbbb-0000-4000-8000-000000000001']::uuid[],
    'maintenance: sees only removed users');
select results_eq($$with x as (delete from app.users where deleted_at is null returning 1)
                    select count(*) from x$$,
    array[0::bigint], 'maintenance: cannot delete live users');
select throws_ok('update app.projects set name = ''x''', '42501', null,
    'maintenance: cannot update anything');
reset role;

-- API keys (V19): one revoked 40 days ago, one revoked yesterday, one live.
insert into app.api_keys (org_id, id, name, role, secret_hash, revoked_at) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000e1', 'old', 'member',
     sha256('e1'), now() - interval '40 days'),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000e2', 'recent', 'member',
     sha256('e2'), now() - interval '1 day'),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-0000000000e3', 'live', 'member',
     sha256('e3'), null);

select results_eq($$select kind, purged from app.purge(now() - interval '30 days') order by kind$$,
    $$values ('api_keys', 1::bigint), ('idempotency_keys', 0::bigint), ('invitations', 0::bigint),
             ('outbound_emails', 0::bigint), ('projects', 1::bigint), ('sessions', 0::bigint),
             ('user_tokens', 0::bigint), ('users', 1::bigint)$$,
    'purge removes the old project, the old user nobody references and the key revoked long ago');
select results_eq($$select name from app.api_keys order by name$$, array['live', 'recent'],
    'a key revoked within the retention period, and live keys, stay');
select is_empty($$select 1 from app.projects where name = 'old'$$, 'the old project is gone');
select isnt_empty($$select 1 from app.projects where name = 'recent'$$,
    'a project removed within the retention period stays');
select isnt_empty($$select 1 from app.projects where name = 'live'$$, 'live projects stay');
select isnt_empty($$select 1 from app.users where id = 'aaaaaaaa-0000-4000-8000-000000000002'$$,
    'a removed user who still owns a project stays');
select is((select count(*) from app.users where deleted_at is null), 2::bigint,
    'live users stay');

select * from finish();
rollback;
