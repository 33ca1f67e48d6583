-- Scale-out on Citus: the same schema, distributed by org_id, with every request routed to one
-- shard. On a single PostgreSQL server nothing here changes behaviour: the distribution
-- functions find no Citus and do nothing.
--
-- 1. The session check routes by a variable, not by a function call. Citus prunes shards by
--    comparing the distribution column with a constant or a parameter; `org_id =
--    app.current_org_id()` is neither, so every request's session check ran on every shard.
--    plpgsql passes variables as parameters: reading the tenant into one first makes the check
--    a single-shard (router) query. Same result on a single server.
-- 2. app.distribute() makes an existing schema distributed (`tenantry distribute` calls it):
--    organizations becomes a reference table (a copy on every node: log-in looks slugs up
--    service-wide, and every tenant table references it), every other table of the schema is
--    distributed by org_id, all colocated, so that one organization's rows of every table live
--    on one node and joins and foreign keys between them stay local.
-- 3. app.distribute_table(t) distributes one table added later. Its migration calls it after
--    creating the table; it does nothing on a single server, or on Citus before the schema was
--    distributed (app.distribute() then takes the table along).
-- 4. app.grant_worker_login(roles) lets the roles Citus connects as log in to the workers
--    (never on the coordinator, where the service's self-check requires NOLOGIN).

create or replace function app.authorize_session(p_session_id uuid) returns text
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_org uuid := app.current_org_id();
    v_user uuid := app.current_user_id();
    v_role text;
begin
    select u.role into v_role
    from app.sessions s
    join app.users u on u.org_id = s.org_id and u.id = s.user_id
    where s.org_id = v_org
      and u.org_id = v_org
      and s.id = p_session_id
      and s.user_id = v_user
      and s.revoked_at is null
      and s.expires_at > now()
      and u.deleted_at is null;
    if v_role is null then
        raise exception 'the session is not active' using errcode = '28000';
    end if;
    execute format('set local app.role = %L', v_role);
    return v_role;
end
$$;

-- True when this database's schema is distributed: Citus is installed here and organizations
-- is already one of its tables. Before that (a single server, or a Citus coordinator whose
-- schema is still local), the distribution helpers do nothing.
create function app.is_distributed() returns boolean
    language plpgsql stable
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if not exists (select 1 from pg_extension where extname = 'citus') then
        return false;
    end if;
    return exists (select 1 from pg_dist_partition
                   where logicalrelid = 'app.organizations'::regclass);
end
$$;

-- Distributes one tenant table by org_id, colocated with app.users, when the schema is
-- distributed and the table is not yet; returns whether it did. A migration that adds a
-- tenant table ends with `select app.distribute_table('app.<table>');`.
--
-- Citus refuses tables with triggers unless told they are safe: ours only stamp and check
-- the row itself or read rows of the same organization (same shard) and the reference table.
-- It also turns a table referencing a reference table into a "Citus local table" unless
-- enable_local_reference_table_foreign_keys is off, after which it could not be distributed.
-- Both settings are transaction-local.
create function app.distribute_table(p_table regclass) returns boolean
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if not app.is_distributed() then
        return false;
    end if;
    if exists (select 1 from pg_dist_partition where logicalrelid = p_table) then
        return false;
    end if;
    if not exists (select 1 from pg_attribute
                   where attrelid = p_table and attname = 'org_id' and not attisdropped) then
        raise exception 'cannot distribute %: it has no org_id column', p_table
            using errcode = '42703';
    end if;
    perform set_config('citus.enable_unsafe_triggers', 'on', true);
    perform set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);
    if p_table = 'app.users'::regclass then
        perform create_distributed_table(p_table, 'org_id', colocate_with => 'none');
    else
        perform create_distributed_table(p_table, 'org_id', colocate_with => 'app.users');
    end if;
    return true;
end
$$;

-- Distributes the whole schema; idempotent. organizations first (the reference table every
-- tenant table points to), then each table whose referenced tables are already distributed,
-- app.users first (the colocation anchor). Returns what it did.
create function app.distribute() returns table (relation text, action text)
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_table regclass;
    v_local regclass[];
begin
    if not exists (select 1 from pg_extension where extname = 'citus') then
        raise exception 'the citus extension is not installed in database %', current_database()
            using errcode = '0A000',
                  hint = 'CREATE EXTENSION citus on the coordinator (and every worker) first';
    end if;
    perform set_config('citus.enable_unsafe_triggers', 'on', true);
    perform set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);
    if not exists (select 1 from pg_dist_partition
                   where logicalrelid = 'app.organizations'::regclass) then
        perform create_reference_table('app.organizations');
        relation := 'app.organizations';
        action := 'reference table';
        return next;
    end if;
    if app.distribute_table('app.users') then
        relation := 'app.users';
        action := 'distributed by org_id';
        return next;
    end if;
    loop
        -- The tables of the schema still local, whose foreign keys all point at distributed
        -- (or reference) tables.
        select array_agg(c.oid::regclass order by c.relname) into v_local
        from pg_class c
        where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p')
          and not c.relispartition
          and not exists (select 1 from pg_dist_partition p where p.logicalrelid = c.oid)
          and not exists (select 1 from pg_constraint f
                          where f.conrelid = c.oid and f.contype = 'f' and f.confrelid <> c.oid
                            and not exists (select 1 from pg_dist_partition p
                                            where p.logicalrelid = f.confrelid));
        exit when v_local is null;
        foreach v_table in array v_local loop
            perform app.distribute_table(v_table);
            relation := v_table::text;
            action := 'distributed by org_id';
            return next;
        end loop;
    end loop;
    select array_agg(c.oid::regclass order by c.relname) into v_local
    from pg_class c
    where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p')
      and not c.relispartition
      and not exists (select 1 from pg_dist_partition p where p.logicalrelid = c.oid);
    if v_local is not null then
        raise exception 'cannot distribute %: their foreign keys point at tables outside the schema',
            v_local using errcode = '0A000';
    end if;
end
$$;

-- Lets the given roles log in to each worker, and only there: the statement runs on the
-- workers with DDL propagation off, so the coordinator keeps them NOLOGIN. The roles are those
-- Citus opens worker connections as, derived from the catalog by sql/queries/ops/worker_roles.sql
-- (`tenantry distribute` and `tenantry migrate` pass them). Migrations restate NOLOGIN
-- cluster-wide (Citus propagates role changes), so this is done again after every migration
-- run. Returns the roles it covered; nothing without the citus extension.
create function app.grant_worker_login(p_roles name[]) returns setof name
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_role name;
    v_failed text;
begin
    if not exists (select 1 from pg_extension where extname = 'citus') then
        return;
    end if;
    foreach v_role in array p_roles loop
        select string_agg(w.nodename || ':' || w.nodeport || ' ' || w.result, '; ') into v_failed
        from run_command_on_workers(
            format('set citus.enable_ddl_propagation = off; alter role %I login', v_role)) w
        where not w.success;
        if v_failed is not null then
            raise exception 'cannot let % log in to the workers: %', v_role, v_failed;
        end if;
        return next v_role;
    end loop;
end
$$;

-- The workers are databases of their own, where the request roles may log in: PUBLIC's
-- privileges are restricted there as on the coordinator (app.restrict_public, V15).
create function app.restrict_public_on_workers() returns void
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_failed text;
begin
    if not exists (select 1 from pg_extension where extname = 'citus') then
        return;
    end if;
    select string_agg(w.nodename || ':' || w.nodeport || ' ' || w.result, '; ') into v_failed
    from run_command_on_workers(
        'set citus.enable_ddl_propagation = off; select app.restrict_public()') w
    where not w.success;
    if v_failed is not null then
        raise exception 'cannot restrict PUBLIC on the workers: %', v_failed;
    end if;
end
$$;

revoke all on function app.is_distributed(), app.distribute_table(regclass), app.distribute(),
    app.grant_worker_login(name[]), app.restrict_public_on_workers() from public;
