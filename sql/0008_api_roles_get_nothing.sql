-- Supabase's API roles get nothing from our schema.
--
-- Supabase's default privileges give `anon` and `authenticated` ALL on every table, sequence and function created in
-- `public`, so its REST API can serve them. We never use that path: the app connects as the owner of these objects.
-- Row level security with no policies hides every row from them, but it covers neither TRUNCATE nor LOCK TABLE (nor
-- REFERENCES, TRIGGER, MAINTAIN), and functions run outside it. So, where those roles exist, take back everything
-- they were given on our objects, and stop the role that runs these migrations from giving it to future ones.
-- Default privileges belong to the role that creates the objects; ALTER DEFAULT PRIVILEGES without FOR ROLE is that
-- role here. `service_role` keeps its grants: its key is a server-side secret that already bypasses RLS.
do $$
declare
  api_role text;
  object record;
begin
  foreach api_role in array array['anon', 'authenticated'] loop
    continue when not exists (select 1 from pg_roles where rolname = api_role);
    for object in
      select c.oid::regclass as name, c.relkind
      from pg_class c
      where c.relnamespace = 'public'::regnamespace
        and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
        and pg_get_userbyid(c.relowner) = current_user
    loop
      execute format('revoke all on %s %s from %I',
        case when object.relkind = 'S' then 'sequence' else 'table' end, object.name, api_role);
    end loop;
    for object in
      select p.oid::regprocedure as name
      from pg_proc p
      where p.pronamespace = 'public'::regnamespace and pg_get_userbyid(p.proowner) = current_user
    loop
      execute format('revoke all on routine %s from %I', object.name, api_role);
    end loop;
    execute format('alter default privileges in schema public revoke all on tables from %I', api_role);
    execute format('alter default privileges in schema public revoke all on sequences from %I', api_role);
    execute format('alter default privileges in schema public revoke all on routines from %I', api_role);
  end loop;
end
$$;

-- Every role may run a function through PUBLIC unless told otherwise; ours are for the app alone (a trigger
-- function needs no EXECUTE grant to fire). A per-schema default cannot take back PUBLIC's global one, hence the
-- global form: it covers routines this role creates from now on, in any schema.
do $$
declare
  object record;
begin
  for object in
    select p.oid::regprocedure as name
    from pg_proc p
    where p.pronamespace = 'public'::regnamespace and pg_get_userbyid(p.proowner) = current_user
  loop
    execute format('revoke all on routine %s from public', object.name);
  end loop;
end
$$;
alter default privileges revoke execute on routines from public;
