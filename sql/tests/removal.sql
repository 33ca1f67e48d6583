-- Removed rows and project owners (migration V14), with hand-written SQL as the runtime role:
-- whoever may remove a row may restore it and see it while removed, nobody else sees it; a
-- project's new owner is a live user; removing a user leaves their projects.
-- Organization A: A1 owner, A2 member (seed), A3 member and A4 admin added here.
begin;
-- pgTAP compares result sets through temporary tables it creates as the current role, which
-- migration V15 forbids to tenantry_app; this grant is rolled back with the test.
do $$
begin
    execute format('grant temporary on database %I to tenantry_app', current_database());
end
$$;
select plan(13);
\ir fixtures/seed.psql

insert into app.users (org_id, id, email, display_name, password_hash, role, deleted_at) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-000000000003',
     'carol@a.example', 'Carol A', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'member', null),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-000000000004',
     'ada@a.example', 'Ada A', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'admin', null),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-000000000005',
     'gone@a.example', 'Gone A', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'member', now());
insert into app.projects (org_id, id, name, owner_id, deleted_at) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000002', 'Alice removed',
     'aaaaaaaa-0000-4000-8000-000000000002', now()),
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000003', 'Carol removed',
     'aaaaaaaa-0000-4000-8000-000000000003', now());

set local role tenantry_app;
select set_config('app.org_id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', true);

-- As the member A2 (Alice).
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000002', true);
select set_config('app.role', 'member', true);
select results_eq($$select name from app.projects where deleted_at is not null$$,
    $$values ('Alice removed')$$, 'member: sees her own removed project only');
select is_empty($$select id from app.users where deleted_at is not null$$,
    'member: sees no removed user');
select results_eq(
    $$with x as (update app.projects set deleted_at = null
                 where id = 'aaaaaaaa-1111-4000-8000-000000000002' returning 1) select count(*) from x$$,
    array[1::bigint], 'member: restores her own project');
select results_eq(
    $$with x as (update app.projects set deleted_at = null
                 where id = 'aaaaaaaa-1111-4000-8000-000000000003' returning 1) select count(*) from x$$,
    array[0::bigint], 'member: restoring another member''s project touches 0 rows');
select lives_ok(
    $$insert into app.projects (id, name, owner_id)
      values ('aaaaaaaa-1111-4000-8000-000000000010', 'Mine', app.current_user_id())$$,
    'member: creates a project of her own');

-- As the admin A4.
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000004', true);
select set_config('app.role', 'admin', true);
select results_eq($$select name from app.projects where deleted_at is not null$$,
    $$values ('Carol removed')$$, 'admin: sees every removed project');
select results_eq($$select email from app.users where deleted_at is not null$$,
    $$values ('gone@a.example')$$, 'admin: sees removed users');
select throws_ok(
    $$insert into app.projects (id, name, owner_id)
      values (gen_random_uuid(), 'For Gone', 'aaaaaaaa-0000-4000-8000-000000000005')$$,
    '23514', 'a project''s owner must be a user who has not been removed',
    'admin: a removed user cannot own a new project');
select throws_ok(
    $$update app.projects set owner_id = 'aaaaaaaa-0000-4000-8000-000000000005'
      where id = 'aaaaaaaa-1111-4000-8000-000000000010'$$,
    '23514', null, 'admin: a project cannot be handed to a removed user');

-- Removing Alice keeps her project, owned by her; it can still be edited and reassigned.
update app.users set deleted_at = now() where id = 'aaaaaaaa-0000-4000-8000-000000000002';
select results_eq(
    $$select owner_id::text from app.projects where id = 'aaaaaaaa-1111-4000-8000-000000000010'$$,
    $$values ('aaaaaaaa-0000-4000-8000-000000000002')$$,
    'removing a user keeps their projects, owned by them');
select lives_ok(
    $$update app.projects set status = 'archived', owner_id = owner_id
      where id = 'aaaaaaaa-1111-4000-8000-000000000010'$$,
    'a project of a removed user can still be edited (naming the same owner is no change)');
select lives_ok(
    $$update app.projects set owner_id = 'aaaaaaaa-0000-4000-8000-000000000003'
      where id = 'aaaaaaaa-1111-4000-8000-000000000010'$$,
    'a project of a removed user can be handed to a live user');
update app.users set deleted_at = null where id = 'aaaaaaaa-0000-4000-8000-000000000002';
select lives_ok(
    $$update app.projects set owner_id = 'aaaaaaaa-0000-4000-8000-000000000002'
      where id = 'aaaaaaaa-1111-4000-8000-000000000010'$$,
    'a restored user can own projects again');

select * from finish();
rollback;
