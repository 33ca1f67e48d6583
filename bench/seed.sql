-- Benchmark data set, seeded as the superuser (no HTTP, no RLS): :orgs organizations of
-- :users users (each with one live session) and :projects projects. Ids are derived from
-- numbers so that tokens, wrk scripts and pgbench scripts can name them:
--   org o            00000000-0000-7000-8000-<o>
--   user/session u   00000000-0000-7000-8001-<o*1000+u> / ...-8002-...
--   project p        00000000-0000-7000-8003-<o*100000+p>, owned by user 1 + (p - 1) % :users
-- Every user's password is the one whose argon2id hash is :'hash'.
\set ON_ERROR_STOP on
begin;
insert into app.organizations (id, slug, name)
select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid, 'org-' || o, 'Org ' || o
from generate_series(1, :orgs) o;

insert into app.users (org_id, id, email, display_name, password_hash, role)
select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
       ('00000000-0000-7000-8001-' || lpad(to_hex(o::bigint * 1000 + u), 12, '0'))::uuid,
       'u' || u || '@org' || o || '.test', 'User ' || u, :'hash',
       case when u = 1 then 'owner' when u = 2 then 'admin' else 'member' end
from generate_series(1, :orgs) o, generate_series(1, :users) u;

insert into app.sessions (org_id, id, user_id, current_hashes, expires_at)
select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
       ('00000000-0000-7000-8002-' || lpad(to_hex(o::bigint * 1000 + u), 12, '0'))::uuid,
       ('00000000-0000-7000-8001-' || lpad(to_hex(o::bigint * 1000 + u), 12, '0'))::uuid,
       array['\x00'::bytea], now() + interval '7 days'
from generate_series(1, :orgs) o, generate_series(1, :users) u;

insert into app.projects (org_id, id, name, owner_id)
select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
       ('00000000-0000-7000-8003-' || lpad(to_hex(o::bigint * 100000 + p), 12, '0'))::uuid,
       'Project ' || p,
       ('00000000-0000-7000-8001-' || lpad(to_hex(o::bigint * 1000 + 1 + (p - 1) % :users), 12, '0'))::uuid
from generate_series(1, :orgs) o, generate_series(1, :projects) p;
commit;
analyze;
