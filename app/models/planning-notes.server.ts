import type { Db, Queryable } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { auditFor, recordAudit } from "./audit.server";
import { trackEvent } from "./events.server";
import type { Actor } from "./organizations.server";

export interface PlanningNoteRow {
  id: string;
  organizationId: string;
  projectId: string;
  authorUserId: string | null;
  authorName: string | null;
  kind: "note" | "conversation";
  body: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export async function listPlanningNotes(sql: Queryable, organizationId: string, projectId: string): Promise<PlanningNoteRow[]> {
  return sql<PlanningNoteRow[]>`
    select n.*, u.name as author_name
    from planning_notes n left join users u on u.id = n.author_user_id
    where n.organization_id = ${organizationId} and n.project_id = ${projectId}
    order by n.created_at`;
}

function audit(sql: Queryable, actor: Actor, action: string, noteId: string, meta: RequestMeta, change: { before?: unknown; after?: unknown }) {
  return recordAudit(sql, auditFor(actor, action, { type: "planning_note", id: noteId }, change), meta);
}

export type AddNoteResult = { ok: true; note: PlanningNoteRow } | { ok: false; reason: "not_found" };

/** Adds a note to a project of the actor's organization. */
export async function addPlanningNote(db: Db, actor: Actor, projectId: string, body: string, meta: RequestMeta): Promise<AddNoteResult> {
  return db.begin(async (sql) => {
    const [project] = await sql`select id from projects where organization_id = ${actor.organizationId} and id = ${projectId}`;
    if (!project) return { ok: false, reason: "not_found" } as const;
    const [note] = await sql<PlanningNoteRow[]>`
      insert into planning_notes (organization_id, project_id, author_user_id, body)
      values (${actor.organizationId}, ${projectId}, ${actor.userId}, ${body})
      returning *`;
    await audit(sql, actor, "planning_note.added", note.id, meta, { after: { projectId, body } });
    await trackEvent(sql, { organizationId: actor.organizationId, userId: actor.userId, type: "planning_note_added", data: { projectId, noteId: note.id } });
    return { ok: true, note } as const;
  });
}

export type NoteChangeResult = { ok: true } | { ok: false; reason: "not_found" } | { ok: false; reason: "conflict"; current: PlanningNoteRow };

export async function updatePlanningNote(
  db: Db,
  actor: Actor,
  input: { projectId: string; noteId: string; body: string; version: number },
  meta: RequestMeta,
): Promise<NoteChangeResult> {
  return db.begin(async (sql) => {
    const [current] = await sql<PlanningNoteRow[]>`
      select *, null as author_name from planning_notes
      where organization_id = ${actor.organizationId} and project_id = ${input.projectId} and id = ${input.noteId}
      for update`;
    if (!current) return { ok: false, reason: "not_found" } as const;
    if (current.version !== input.version) return { ok: false, reason: "conflict", current } as const;
    if (current.body === input.body) return { ok: true } as const;
    await sql`
      update planning_notes set body = ${input.body}, version = version + 1
      where organization_id = ${actor.organizationId} and id = ${input.noteId}`;
    await audit(sql, actor, "planning_note.updated", input.noteId, meta, { before: { body: current.body }, after: { body: input.body } });
    return { ok: true } as const;
  });
}

export async function deletePlanningNote(
  db: Db,
  actor: Actor,
  input: { projectId: string; noteId: string },
  meta: RequestMeta,
): Promise<{ ok: true } | { ok: false; reason: "not_found" }> {
  return db.begin(async (sql) => {
    const [note] = await sql<PlanningNoteRow[]>`
      delete from planning_notes
      where organization_id = ${actor.organizationId} and project_id = ${input.projectId} and id = ${input.noteId}
      returning *`;
    if (!note) return { ok: false, reason: "not_found" } as const;
    await audit(sql, actor, "planning_note.deleted", note.id, meta, { before: { body: note.body } });
    return { ok: true } as const;
  });
}
