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
-- bench/run runs this file twice around the load (-v before=1, then -v after=1) and
-- streams each table in between: `COPY (SELECT * FROM bench.<table>(...)) TO STDOUT` piped into
-- `COPY app.<table> (...) FROM STDIN WITH (FREEZE)`, in the transaction that truncated the
-- table, so the two sides run on two cores. Fast on 10,000,000 rows, with the same tables,
-- indexes and statistics as a service-built data set (the tables stay logged, so plans are
-- those of production):
--   * FREEZE writes the rows frozen and the visibility map set: no VACUUM pass rewrites them;
--   * session_replication_role = replica (in the loading session) skips the foreign-key checks
--     (the layout is consistent by construction: every owner and session points at a seeded
--     user of its organization);
--   * the row triggers (the timestamps they would stamp are the columns' defaults, now()) and
--     the secondary indexes are dropped before the load and recreated after it, from their own
--     saved definitions; primary keys stay, filled in key order.
\set ON_ERROR_STOP on
-- -v define=1 (bench/citus) only defines the layout's functions: that script inserts the rows
-- through the coordinator instead.
select :{?before} or :{?define} as bench_define \gset
\if :bench_define
create schema bench;
create function bench.id(kind int, number bigint) returns uuid
    language sql immutable strict parallel safe
    as $$ select ('00000000-0000-7000-' || to_hex(32768 + kind) || '-' || lpad(to_hex(number), 12, '0'))::uuid $$;
create function bench.user_number(o int, u int) returns bigint
    language sql immutable strict parallel safe as $$ select o::bigint * 1000 + u $$;
create function bench.project_number(o int, p int) returns bigint
    language sql immutable strict parallel safe as $$ select o::bigint * 100000 + p $$;

-- The rows of each table, in key order (bench/run names the columns they fill).
create function bench.organizations(orgs int) returns table (id uuid, slug text, name text)
    language sql immutable
    as $$ select bench.id(0, o), 'org-' || o, 'Org ' || o from generate_series(1, orgs) o $$;
create function bench.users(orgs int, users int, hash text)
    returns table (org_id uuid, id uuid, email text, display_name text, password_hash text, role text)
    language sql immutable
    as $$ select bench.id(0, o), bench.id(1, bench.user_number(o, u)), 'u' || u || '@org' || o || '.test',
                 'User ' || u, hash, case when u = 1 then 'owner' when u = 2 then 'admin' else 'member' end
          from generate_series(1, orgs) o, generate_series(1, users) u $$;
create function bench.sessions(orgs int, users int)
    returns table (org_id uuid, id uuid, user_id uuid, current_hashes bytea[], expires_at timestamptz)
    language sql stable
    as $$ select bench.id(0, o), bench.id(2, bench.user_number(o, u)), bench.id(1, bench.user_number(o, u)),
                 array['\x00'::bytea], now() + interval '7 days'
          from generate_series(1, orgs) o, generate_series(1, users) u $$;
create function bench.projects(orgs int, users int, projects int)
    returns table (org_id uuid, id uuid, name text, owner_id uuid)
    language sql immutable
    as $$ select bench.id(0, o), bench.id(3, bench.project_number(o, p)), 'Project ' || p,
                 bench.id(1, bench.user_number(o, 1 + (p - 1) % users))
          from generate_series(1, orgs) o, generate_series(1, projects) p $$;

\endif

\if :{?before}
create table bench.saved_index as
select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
from pg_index i
where i.indrelid in ('app.users'::regclass, 'app.sessions'::regclass, 'app.projects'::regclass)
  and not exists (select from pg_constraint c where c.conindid = i.indexrelid);
select format('drop index %s', name) from bench.saved_index \gexec
-- Row triggers too (stamp_timestamps): COPY fills a table with a BEFORE INSERT row trigger one
-- row at a time, which does not set the visibility map, whether the trigger fires or not.
create table bench.saved_trigger as
select tgname as name, tgrelid::regclass::text as relation, pg_get_triggerdef(oid) as definition
from pg_trigger
where tgrelid in ('app.organizations'::regclass, 'app.users'::regclass, 'app.sessions'::regclass,
                  'app.projects'::regclass)
  and not tgisinternal;
select format('drop trigger %I on %s', name, relation) from bench.saved_trigger \gexec
\endif

\if :{?after}
set maintenance_work_mem = '1GB';
set max_parallel_maintenance_workers = 2;
select definition from bench.saved_index \gexec
select definition from bench.saved_trigger \gexec
drop table bench.saved_index, bench.saved_trigger;
analyze;
\endif
