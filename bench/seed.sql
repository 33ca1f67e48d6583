-- Benchmark data set, seeded as the superuser (no HTTP, no RLS): :orgs organizations of
-- :users users (each with one live session) and :projects projects each. Every user's
-- password is the one whose argon2id hash is :'hash'.
--
-- The layout is defined once, here, by the functions of the `bench` schema; the load
-- generators derive their ids from them (tokens.py reads the seeded users back; the pgbench
-- scripts call bench.id; wrk.lua gets the project id format from tokens.py):
--   organization o  bench.id(0, o)
--   user u of o     bench.id(1, bench.user_number(o, u)); its session bench.id(2, ...)
--   project p of o  bench.id(3, bench.project_number(o, p)), owned by user 1 + (p - 1) % :users
--
-- Fast on 10,000,000 rows, with the same tables, indexes and statistics as a service-built
-- data set (the tables stay logged, so plans are those of production):
--   * session_replication_role = replica skips the row triggers (the timestamps they would
--     stamp are given explicitly) and the foreign-key checks (the layout is consistent by
--     construction: every owner and session points at a seeded user of its organization);
--   * the secondary indexes are dropped before the load and rebuilt after it, from their own
--     saved definitions; primary keys stay, filled in key order;
--   * VACUUM (FREEZE, ANALYZE) at the end writes the visibility map and hint bits once, so no
--     measured read pays for them.
\set ON_ERROR_STOP on
set session_replication_role = replica;
set synchronous_commit = off;
set maintenance_work_mem = '1GB';
set max_parallel_maintenance_workers = 2;

create schema bench;
create function bench.id(kind int, number bigint) returns uuid
    language sql immutable strict parallel safe
    as $$ select ('00000000-0000-7000-' || to_hex(32768 + kind) || '-' || lpad(to_hex(number), 12, '0'))::uuid $$;
create function bench.user_number(o int, u int) returns bigint
    language sql immutable strict parallel safe as $$ select o::bigint * 1000 + u $$;
create function bench.project_number(o int, p int) returns bigint
    language sql immutable strict parallel safe as $$ select o::bigint * 100000 + p $$;

create temporary table saved_index as
select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
from pg_index i
where i.indrelid in ('app.users'::regclass, 'app.sessions'::regclass, 'app.projects'::regclass)
  and not exists (select from pg_constraint c where c.conindid = i.indexrelid);
select format('drop index %s', name) from saved_index \gexec

begin;
insert into app.organizations (id, slug, name, created_at, updated_at)
select bench.id(0, o), 'org-' || o, 'Org ' || o, now(), now()
from generate_series(1, :orgs) o;

insert into app.users (org_id, id, email, display_name, password_hash, role, created_at, updated_at)
select bench.id(0, o), bench.id(1, bench.user_number(o, u)),
       'u' || u || '@org' || o || '.test', 'User ' || u, :'hash',
       case when u = 1 then 'owner' when u = 2 then 'admin' else 'member' end, now(), now()
from generate_series(1, :orgs) o, generate_series(1, :users) u;

insert into app.sessions (org_id, id, user_id, current_hashes, expires_at, created_at, updated_at, last_used_at)
select bench.id(0, o), bench.id(2, bench.user_number(o, u)), bench.id(1, bench.user_number(o, u)),
       array['\x00'::bytea], now() + interval '7 days', now(), now(), now()
from generate_series(1, :orgs) o, generate_series(1, :users) u;

insert into app.projects (org_id, id, name, owner_id, created_at, updated_at)
select bench.id(0, o), bench.id(3, bench.project_number(o, p)), 'Project ' || p,
       bench.id(1, bench.user_number(o, 1 + (p - 1) % :users)), now(), now()
from generate_series(1, :orgs) o, generate_series(1, :projects) p;
commit;

select definition from saved_index \gexec
reset session_replication_role;
vacuum (freeze, analyze);
