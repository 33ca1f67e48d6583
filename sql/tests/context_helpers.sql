-- The tenant-context helpers every policy relies on: app.current_org_id(), app.current_user_id()
-- and app.current_user_role() must be NULL (so that `org_id = app.current_org_id()` matches no
-- row) both when the setting was never defined on the connection and when it holds the empty
-- string that a pooled connection keeps after an earlier transaction's SET LOCAL ended.
-- Run as tenantry_app, as the service does.
begin;
select plan(16);

set local role tenantry_app;

-- 1. Never set on this connection (a fresh psql session: this must come first).
select is(current_setting('app.org_id', true), null,
    'premise: app.org_id was never set on this connection');
select is(app.current_org_id(), null::uuid, 'current_org_id() is NULL with no setting');
select is(app.current_user_id(), null::uuid, 'current_user_id() is NULL with no setting');
select is(app.current_user_role(), null::text, 'current_user_role() is NULL with no setting');

-- 2. The empty string (what a pooled connection holds after an earlier SET LOCAL ended).
set local app.org_id = '';
set local app.user_id = '';
set local app.role = '';
select is(current_setting('app.org_id', true), '', 'premise: app.org_id is the empty string');
select is(app.current_org_id(), null::uuid, 'current_org_id() is NULL with the empty string');
select is(app.current_user_id(), null::uuid, 'current_user_id() is NULL with the empty string');
select is(app.current_user_role(), null::text, 'current_user_role() is NULL with the empty string');

-- 3. Set, exactly as the service sets it.
set local app.org_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
set local app.user_id = 'aaaaaaaa-0000-4000-8000-000000000001';
set local app.role = 'owner';
select is(app.current_org_id(), 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'::uuid,
    'current_org_id() is the uuid that was set');
select is(app.current_user_id(), 'aaaaaaaa-0000-4000-8000-000000000001'::uuid,
    'current_user_id() is the uuid that was set');
select is(app.current_user_role(), 'owner', 'current_user_role() is the role that was set');

-- 4. Changing the context within a transaction (set_config(.., true) is transaction-local).
select is(set_config('app.org_id', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', true),
    'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'set_config switches app.org_id to B');
select is(app.current_org_id(), 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'::uuid,
    'current_org_id() follows set_config(''app.org_id'', .., true)');
select is(set_config('app.org_id', '', true), '', 'set_config empties app.org_id');
select is(app.current_org_id(), null::uuid,
    'current_org_id() is NULL again after set_config(''app.org_id'', '''', true)');

-- 5. A malformed context fails closed with an error rather than matching anything.
set local app.org_id = 'not-a-uuid';
select throws_ok('select app.current_org_id()', '22P02', null,
    'a malformed app.org_id raises invalid_text_representation');

select * from finish();
rollback;
