-- Look-alike identities: text that names someone or something is stored in Unicode NFC and
-- holds no invisible code point, so that "owner@a.test" cannot sit beside "own<U+200B>er@a.test"
-- or "<U+202E>owner@a.test", nor "é" beside "e<U+0301>".
--
-- The service refuses such input with 422 (src/domain/text.rs: INVISIBLE, HIDDEN_IN_FREE_TEXT)
-- and the statements store normalize(text, NFC); these constraints assert the same rules in
-- the database, whoever writes (a test compares both definitions code point by code point).
--
-- If this migration fails on existing rows, list them with, for example:
--   select org_id, id, display_name from app.users where not app.is_identity_text(display_name);

-- Identity text (names, emails): in NFC, without controls (Cc), format characters (Cf: soft
-- hyphen, bidirectional controls, zero-width spaces and joiners, byte-order mark, tags, ...),
-- line and paragraph separators (Zl, Zp), other default-ignorable code points (variation
-- selectors, Hangul fillers, combining grapheme joiner, ...) and U+2800 BRAILLE PATTERN BLANK.
create function app.is_identity_text(p_text text) returns boolean
    language sql immutable strict parallel safe
    as $$
select p_text is nfc normalized
   and p_text !~ '[\u0001-\u001F\u007F-\u009F\u00AD\u034F\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u2800\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFFB\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0000-\U000E0FFF]'
$$;

-- Free text (descriptions): in NFC, without controls other than tab, line feed and carriage
-- return, line and paragraph separators, bidirectional embeddings, overrides and isolates,
-- the byte-order mark, interlinear annotation controls and tag characters. Joiners and
-- variation selectors stay: scripts and emoji need them.
create function app.is_free_text(p_text text) returns boolean
    language sql immutable strict parallel safe
    as $$
select p_text is nfc normalized
   and p_text !~ '[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028-\u202E\u2066-\u2069\uFEFF\uFFF9-\uFFFB\U000E0000-\U000E007F]'
$$;

-- Unicode White_Space, what the service trims (Rust's char::is_whitespace): names neither
-- start nor end with it, emails hold none.
create function app.white_space() returns text
    language sql immutable parallel safe
    as $$
select E'\t\n\u000B\f\r \u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000'
$$;

revoke all on function app.is_identity_text(text), app.is_free_text(text), app.white_space()
    from public;
grant execute on function app.is_identity_text(text), app.is_free_text(text), app.white_space()
    to tenantry_app;

-- "Trimmed" meant btrim(x) = x, which trims only U+0020: a name could start with U+00A0.
alter table app.organizations drop constraint ck_organizations_name;
alter table app.organizations
    add constraint ck_organizations_name check (
        length(name) between 1 and 200 and pg_catalog.btrim(name, app.white_space()) = name),
    add constraint ck_organizations_name_text check (app.is_identity_text(name));

alter table app.users drop constraint ck_users_display_name;
alter table app.users
    add constraint ck_users_display_name check (
        length(display_name) between 1 and 200
        and pg_catalog.btrim(display_name, app.white_space()) = display_name),
    add constraint ck_users_display_name_text check (app.is_identity_text(display_name)),
    add constraint ck_users_email_text check (
        app.is_identity_text(email) and pg_catalog.translate(email, app.white_space(), '') = email);

alter table app.projects drop constraint ck_projects_name;
alter table app.projects
    add constraint ck_projects_name check (
        length(name) between 1 and 200 and pg_catalog.btrim(name, app.white_space()) = name),
    add constraint ck_projects_name_text check (app.is_identity_text(name)),
    add constraint ck_projects_description_text check (app.is_free_text(description));
