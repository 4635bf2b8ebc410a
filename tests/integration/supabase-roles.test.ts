import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

// The roles Supabase's REST API runs browser requests as. They must get nothing from our schema: not a row, not a
// write, not a TRUNCATE (which row level security does not cover), not a lock, not a function to go around it.
const API_ROLES = ["anon", "authenticated"] as const;
const INSUFFICIENT_PRIVILEGE = "42501";

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  // Rows to read: a SELECT that got through would return one.
  const [org] = await db`insert into organizations (name) values ('Kept') returning id`;
  const [user] = await db`insert into users (email, password_hash) values ('kept@example.com', 'h') returning id`;
  await db`insert into memberships (organization_id, user_id, role) values (${org.id}, ${user.id}, 'owner')`;
  const [project] = await db`insert into projects (organization_id, title) values (${org.id}, 'Kept') returning id`;
  await db`insert into episodes (organization_id, project_id, scheduled_for) values (${org.id}, ${project.id}, now())`;
  await db`insert into audit_log (organization_id, actor_user_id, action) values (${org.id}, ${user.id}, 'project.created')`;
});
afterAll(() => database.drop());

interface Relation {
  name: string;
  kind: string;
  firstColumn: string;
}

async function publicRelations(): Promise<Relation[]> {
  return db<Relation[]>`
    select c.relname as name, c.relkind as kind,
      (select a.attname from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       order by a.attnum limit 1) as first_column
    from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
    order by c.relname`;
}

const ROLLBACK = Symbol("rollback");

/** Runs `statement` as `role` in a transaction that is always rolled back; the error code, or "none". */
async function attemptAs(role: string, statement: string): Promise<{ code: string; rows: number }> {
  let outcome = { code: "none", rows: 0 };
  try {
    await db.begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      const result = await tx.unsafe(statement);
      outcome = { code: "none", rows: result.count ?? result.length };
      throw ROLLBACK;
    });
  } catch (error) {
    if (error === ROLLBACK) return outcome;
    const code = (error as { code?: string }).code;
    if (!code) throw error;
    outcome = { code, rows: 0 };
  }
  return outcome;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

describe.each(API_ROLES)("Supabase's %s role", (role) => {
  it("reads no row and changes, truncates or locks nothing, on every table and view in public", async () => {
    const relations = await publicRelations();
    expect(relations.filter((r) => r.kind === "r").length).toBeGreaterThanOrEqual(19);
    const holes: string[] = [];
    for (const { name, kind, firstColumn } of relations) {
      const table = ident(name);
      const read = await attemptAs(role, `select * from ${table} limit 1`);
      if (read.code !== INSUFFICIENT_PRIVILEGE && read.rows > 0) holes.push(`${name}: SELECT returned a row`);
      const writes = [
        ["INSERT", `insert into ${table} default values`],
        ["UPDATE", `update ${table} set ${ident(firstColumn)} = ${ident(firstColumn)}`],
        ["DELETE", `delete from ${table}`],
        ["LOCK TABLE ... ACCESS EXCLUSIVE", `lock table ${table} in access exclusive mode`],
        ...(kind === "v" ? [] : [["TRUNCATE", `truncate ${table} cascade`]]),
      ];
      for (const [verb, statement] of writes) {
        const { code } = await attemptAs(role, statement);
        if (code !== INSUFFICIENT_PRIVILEGE) holes.push(`${name}: ${verb} was not refused (${code === "none" ? "it ran" : code})`);
      }
    }
    expect(holes).toEqual([]);
  });

  it("holds no privilege on any table, view, sequence or function in public, nor CREATE on the schema", async () => {
    const [{ maintain }] = await db`select current_setting('server_version_num')::int >= 170000 as maintain`;
    const tablePrivileges = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", ...(maintain ? ["MAINTAIN"] : [])];
    const relations = await db`
      select c.relname as name, p.privilege
      from pg_class c cross join unnest(${tablePrivileges}::text[]) as p(privilege)
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
        and (has_table_privilege(${role}, c.oid, p.privilege)
          or has_any_column_privilege(${role}, c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))
      order by 1, 2`;
    expect(relations).toEqual([]);
    const sequences = await db`
      select c.relname as name from pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind = 'S'
        and (has_sequence_privilege(${role}, c.oid, 'USAGE') or has_sequence_privilege(${role}, c.oid, 'SELECT')
          or has_sequence_privilege(${role}, c.oid, 'UPDATE'))`;
    expect(sequences).toEqual([]);
    const [{ functions }] = await db`select count(*)::int as functions from pg_proc where pronamespace = 'public'::regnamespace`;
    expect(functions).toBeGreaterThan(0);
    const executable = await db`
      select p.oid::regprocedure::text as name, p.prosecdef as security_definer from pg_proc p
      where p.pronamespace = 'public'::regnamespace and has_function_privilege(${role}, p.oid, 'EXECUTE')`;
    expect(executable).toEqual([]);
    const [{ create }] = await db`select has_schema_privilege(${role}, 'public', 'CREATE') as create`;
    expect(create).toBe(false);
  });

  it("gets nothing on what a later migration creates, either", async () => {
    const granted = await db
      .begin(async (tx) => {
        await tx.unsafe(`
          create table later_table (id int primary key, note text);
          create sequence later_sequence;
          create view later_view as select id from later_table;
          create function later_function() returns int language sql as 'select 1';`);
        const rows = await tx`
          select 'later_table' as name where has_table_privilege(${role}, 'later_table', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
          union all select 'later_view' where has_table_privilege(${role}, 'later_view', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
          union all select 'later_sequence' where has_sequence_privilege(${role}, 'later_sequence', 'USAGE, SELECT, UPDATE')
          union all select 'later_function' where has_function_privilege(${role}, 'later_function()', 'EXECUTE')`;
        throw Object.assign(new Error("rollback"), { rows });
      })
      .catch((error: { rows?: { name: string }[] }) => {
        if (!error.rows) throw error;
        return error.rows.map((row) => row.name);
      });
    expect(granted).toEqual([]);
  });
});

describe("the app's own connection", () => {
  it("still reads and writes every table it owns, and its triggers still fire", async () => {
    // set_updated_at() lost PUBLIC's EXECUTE; a trigger fires without it.
    const updated = await db`update projects set title = 'Kept 2' where title = 'Kept' returning updated_at`;
    expect(updated.count).toBe(1);
    const [{ count }] = await db`select count(*)::int as count from organizations`;
    expect(count).toBe(1);
  });
});
