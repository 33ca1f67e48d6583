-- Composite foreign keys keep references inside one organization, whatever role writes: a row of
-- organization A can only reference rows of A. Shown on a scratch table app.pgtap_notes created
-- inside this test's transaction (and rolled back with it), referencing app.users the way a
-- future tenant table would, and written as the superuser, to which RLS does not apply.
begin;
select plan(9);

\ir fixtures/seed.psql

create table app.pgtap_notes (
    org_id uuid not null,
    id uuid not null,
    author_id uuid not null,
    primary key (org_id, id),
    foreign key (org_id, author_id) references app.users (org_id, id)
);

select ok((select rolsuper from pg_roles where rolname = current_user),
    'premise: running as a superuser (RLS does not apply; only the keys protect)');
select has_table('app', 'pgtap_notes', 'premise: the scratch table app.pgtap_notes exists');

-- A note of A by A's user: fine.
select lives_ok(
    $$insert into app.pgtap_notes (org_id, id, author_id)
      values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000001',
              'aaaaaaaa-0000-4000-8000-000000000001')$$,
    'a note of A written by a user of A is accepted');

-- A note of A whose author is a user of B: the key (A, B1) does not exist.
select throws_ok(
    $$insert into app.pgtap_notes (org_id, id, author_id)
      values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000002',
              'bbbbbbbb-0000-4000-8000-000000000001')$$,
    '23503', null, 'a note of A written by a user of B is refused (23503), even for the superuser');
select throws_ok(
    $$insert into app.pgtap_notes (org_id, id, author_id)
      values ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bbbbbbbb-1111-4000-8000-000000000001',
              'aaaaaaaa-0000-4000-8000-000000000001')$$,
    '23503', null, 'a note of B written by a user of A is refused (23503)');

-- An existing note cannot be re-pointed across organizations either.
select throws_ok(
    $$update app.pgtap_notes set author_id = 'bbbbbbbb-0000-4000-8000-000000000002'
      where id = 'aaaaaaaa-1111-4000-8000-000000000001'$$,
    '23503', null, 'pointing A''s note at a user of B is refused (23503)');
select throws_ok(
    $$update app.pgtap_notes set org_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'
      where id = 'aaaaaaaa-1111-4000-8000-000000000001'$$,
    '23503', null, 'moving A''s note into B while keeping A''s author is refused (23503)');

-- Users can only be referenced together with their organization: there is no key on id alone.
select throws_ok(
    $$create table app.pgtap_bad_notes (
          org_id uuid not null, id uuid not null, author_id uuid not null,
          foreign key (author_id) references app.users (id))$$,
    '42830', null, 'a foreign key to app.users (id) alone cannot even be declared (no such key)');

select results_eq(
    'select org_id, id, author_id from app.pgtap_notes',
    $$values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'::uuid, 'aaaaaaaa-1111-4000-8000-000000000001'::uuid,
              'aaaaaaaa-0000-4000-8000-000000000001'::uuid)$$,
    'only the same-organization note was stored, unchanged');

select * from finish();
rollback;
