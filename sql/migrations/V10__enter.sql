-- One bindable call that opens a request's tenant context: it sets app.org_id and
-- app.user_id transaction-locally (SET LOCAL through EXECUTE, which Citus propagates, unlike
-- set_config), checks the session and sets app.role from the users table. A request's
-- transaction is then: BEGIN; SET LOCAL ROLE tenantry_app; SELECT app.enter($1, $2, $3);
-- <query>; COMMIT, with the first four pipelined in one round trip. Bind parameters mean no
-- per-request SQL text, and one cached prepared statement per connection.
-- SECURITY INVOKER: it runs as tenantry_app, under RLS.
create function app.enter(p_org_id uuid, p_user_id uuid, p_session_id uuid) returns text
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if p_org_id is null or p_user_id is null or p_session_id is null then
        raise exception 'incomplete tenant context' using errcode = '28000';
    end if;
    execute format('set local app.org_id = %L', p_org_id);
    execute format('set local app.user_id = %L', p_user_id);
    return app.authorize_session(p_session_id);
end
$$;

revoke all on function app.enter(uuid, uuid, uuid) from public;
grant execute on function app.enter(uuid, uuid, uuid) to tenantry_app;
