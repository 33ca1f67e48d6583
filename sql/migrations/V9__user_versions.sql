-- Users are mutable resources too: a version (the ETag) bumped by every change, so that
-- PATCH and DELETE of a user can honour If-Match like projects do.
alter table app.users add column version bigint not null default 1;

create trigger bump_version before update on app.users
    for each row execute function app.bump_version();
