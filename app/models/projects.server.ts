import type { Db, Queryable } from "~/lib/db.server";
import { nextQuestion, transcript, type Answers } from "~/lib/futura";
import { canManageProjectLifecycle } from "~/lib/roles";
import { cadenceErrors, parseTime, uniqueDays, type ProjectCreateInput, type ProjectUpdateInput } from "~/lib/project-input.server";
import { nextScheduledAt, type Cadence, type CadenceType, type Weekday } from "~/lib/schedule.server";
import type { FieldErrors } from "~/lib/validation";
import type { RequestMeta } from "~/lib/http.server";
import { auditFor, recordAudit } from "./audit.server";
import { trackEvent } from "./events.server";
import type { Actor } from "./organizations.server";

export interface ProjectRow {
  id: string;
  organizationId: string;
  createdByUserId: string | null;
  title: string;
  onboardingBrief: string;
  status: "ACTIVE" | "ARCHIVED";
  cadenceType: CadenceType;
  cadenceDays: Weekday[];
  deliveryHour: number;
  deliveryMinute: number;
  timezone: string;
  nextScheduledAt: Date | null;
  archivedAt: Date | null;
  /** Anyone may subscribe through /subscribe/:projectId. */
  publicSubscribe: boolean;
  /** The archive and its Atom feed are readable without signing in. */
  publicArchive: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProjectListItem extends ProjectRow {
  episodeCount: number;
  lastPublishedAt: Date | null;
}

export function cadenceOf(project: Pick<ProjectRow, "cadenceType" | "cadenceDays" | "deliveryHour" | "deliveryMinute" | "timezone">): Cadence {
  return {
    type: project.cadenceType,
    days: project.cadenceDays,
    hour: project.deliveryHour,
    minute: project.deliveryMinute,
    timezone: project.timezone,
  };
}

/** What the API and the audit log show of a project. */
export function projectView(project: ProjectRow) {
  return {
    id: project.id,
    title: project.title,
    brief: project.onboardingBrief,
    status: project.status,
    cadenceType: project.cadenceType,
    cadenceDays: project.cadenceDays,
    deliveryTime: `${String(project.deliveryHour).padStart(2, "0")}:${String(project.deliveryMinute).padStart(2, "0")}`,
    timezone: project.timezone,
    nextScheduledAt: project.nextScheduledAt?.toISOString() ?? null,
    version: project.version,
    createdAt: project.createdAt.toISOString(),
    updatedAt: project.updatedAt.toISOString(),
  };
}
export type ProjectView = ReturnType<typeof projectView>;

/**
 * The organization's projects, most recently updated first, each with its episode count and last publication.
 * Both come from index-only scans (episodes_project_scheduled_idx, episodes_project_published_idx), so the
 * cost does not grow with the size of the episodes' rows.
 */
export async function listProjects(sql: Queryable, organizationId: string): Promise<ProjectListItem[]> {
  return sql<ProjectListItem[]>`
    select p.*,
      (select count(*)::int from episodes e
        where e.organization_id = p.organization_id and e.project_id = p.id) as episode_count,
      (select max(e.published_at) from episodes e
        where e.organization_id = p.organization_id and e.project_id = p.id and e.status = 'PUBLISHED') as last_published_at
    from projects p
    where p.organization_id = ${organizationId}
    order by p.updated_at desc`;
}

export async function getProject(sql: Queryable, organizationId: string, projectId: string): Promise<ProjectRow | undefined> {
  const [project] = await sql<ProjectRow[]>`
    select * from projects where organization_id = ${organizationId} and id = ${projectId}`;
  return project;
}

/**
 * The upcoming draft episode follows the schedule: drafts for future slots are replaced by one for the next
 * slot, or none when paused or archived.
 */
async function rescheduleDraft(sql: Queryable, project: ProjectRow): Promise<void> {
  await sql`
    delete from episodes
    where organization_id = ${project.organizationId} and project_id = ${project.id}
      and status = 'DRAFT' and scheduled_for > now()
      and scheduled_for is distinct from ${project.nextScheduledAt}`;
  if (project.nextScheduledAt) {
    await sql`
      insert into episodes (organization_id, project_id, scheduled_for, status)
      values (${project.organizationId}, ${project.id}, ${project.nextScheduledAt}, 'DRAFT')
      on conflict (project_id, scheduled_for) do nothing`;
  }
}

export type CreateProjectResult = { ok: true; project: ProjectRow } | { ok: false; reason: "invalid"; errors: FieldErrors };

export type CompleteConversationResult =
  | CreateProjectResult
  /** Some of Futura's questions are still unanswered. */
  | { ok: false; reason: "incomplete" }
  /** No conversation is active (a double submit, or a stale page); `projectId` is the one the last completed one made. */
  | { ok: false; reason: "conversation_closed"; projectId: string | null };

/**
 * Creates a project (ACTIVE, schedule computed) and its first DRAFT episode for that slot, audited and tracked,
 * all in one transaction.
 */
export function createProject(db: Db, actor: Actor, input: ProjectCreateInput, meta: RequestMeta): Promise<CreateProjectResult> {
  return insertProject(db, actor, input, meta) as Promise<CreateProjectResult>;
}

/**
 * Creates the project the actor's active Futura conversation describes, with the transcript as its first planning
 * note, and completes the conversation, in one transaction. A conversation completes once: it is locked while
 * still active, so a second "Create project" waits, then finds none active and creates nothing.
 */
export function completeConversation(db: Db, actor: Actor, input: ProjectCreateInput, meta: RequestMeta): Promise<CompleteConversationResult> {
  return insertProject(db, actor, input, meta, true);
}

async function insertProject(
  db: Db,
  actor: Actor,
  input: ProjectCreateInput,
  meta: RequestMeta,
  fromConversation = false,
): Promise<CompleteConversationResult> {
  const days = uniqueDays(input.cadenceDays ?? (input.cadenceType === "custom" ? [] : [1]));
  const errors = cadenceErrors({ type: input.cadenceType, days });
  if (Object.keys(errors).length) return { ok: false, reason: "invalid", errors };
  const { hour, minute } = parseTime(input.deliveryTime);
  const cadence: Cadence = { type: input.cadenceType, days, hour, minute, timezone: input.timezone };
  const next = nextScheduledAt(cadence, new Date());

  return db.begin(async (sql) => {
    let conversation: { id: string; answers: Answers } | undefined;
    if (fromConversation) {
      [conversation] = await sql<{ id: string; answers: Answers }[]>`
        select id, answers from project_conversations
        where organization_id = ${actor.organizationId} and user_id = ${actor.userId} and status = 'active'
        order by updated_at desc
        limit 1
        for update`;
      if (!conversation) {
        const [completed] = await sql<{ projectId: string | null }[]>`
          select project_id from project_conversations
          where organization_id = ${actor.organizationId} and user_id = ${actor.userId} and status = 'completed'
          order by updated_at desc
          limit 1`;
        return { ok: false, reason: "conversation_closed", projectId: completed?.projectId ?? null } as const;
      }
      if (nextQuestion(conversation.answers)) return { ok: false, reason: "incomplete" } as const;
    }
    const [project] = await sql<ProjectRow[]>`
      insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days,
                            delivery_hour, delivery_minute, timezone, next_scheduled_at)
      values (${actor.organizationId}, ${actor.userId}, ${input.title}, ${input.brief}, ${cadence.type},
              ${sql.array(cadence.days)}::smallint[], ${hour}, ${minute}, ${cadence.timezone}, ${next})
      returning *`;
    await rescheduleDraft(sql, project);
    if (conversation) {
      await sql`
        insert into planning_notes (organization_id, project_id, author_user_id, kind, body)
        values (${actor.organizationId}, ${project.id}, ${actor.userId}, 'conversation', ${transcript(conversation.answers)})`;
      await sql`
        update project_conversations set status = 'completed', project_id = ${project.id}, version = version + 1
        where id = ${conversation.id} and organization_id = ${actor.organizationId} and status = 'active'`;
    }
    await recordAudit(sql, auditFor(actor, "project.created", { type: "project", id: project.id }, { after: projectView(project) }), meta);
    await trackEvent(sql, {
      organizationId: actor.organizationId,
      userId: actor.userId,
      type: "project_created",
      data: { projectId: project.id, fromConversation: !!conversation },
    });
    return { ok: true, project } as const;
  });
}

export type UpdateProjectResult =
  | { ok: true; project: ProjectRow; changed: string[] }
  | { ok: false; reason: "not_found" | "forbidden" }
  | { ok: false; reason: "conflict"; current: ProjectRow }
  | { ok: false; reason: "invalid"; errors: FieldErrors };

const SETTINGS_FIELDS = ["title", "brief", "cadenceType", "cadenceDays", "deliveryTime", "timezone", "status"] as const;

/**
 * Applies changes if the caller saw the current version; otherwise nothing is written and the current row is
 * returned. The schedule is recomputed on every save. Changing the status (archive, restore) needs
 * canManageProjectLifecycle; other settings are open to every member.
 */
export async function updateProject(
  db: Db,
  actor: Actor,
  projectId: string,
  changes: ProjectUpdateInput,
  meta: RequestMeta,
): Promise<UpdateProjectResult> {
  return db.begin(async (sql) => {
    const [current] = await sql<ProjectRow[]>`
      select * from projects where organization_id = ${actor.organizationId} and id = ${projectId} for update`;
    if (!current) return { ok: false, reason: "not_found" } as const;
    if (changes.status && changes.status !== current.status && !canManageProjectLifecycle(actor.role)) {
      return { ok: false, reason: "forbidden" } as const;
    }
    if (current.version !== changes.version) return { ok: false, reason: "conflict", current } as const;

    const days = uniqueDays(changes.cadenceDays ?? current.cadenceDays);
    const type = changes.cadenceType ?? current.cadenceType;
    const errors = cadenceErrors({ type, days });
    if (Object.keys(errors).length) return { ok: false, reason: "invalid", errors } as const;
    const time = changes.deliveryTime ? parseTime(changes.deliveryTime) : { hour: current.deliveryHour, minute: current.deliveryMinute };
    const status = changes.status ?? current.status;
    const cadence: Cadence = { type, days, ...time, timezone: changes.timezone ?? current.timezone };
    const proposed: ProjectRow = {
      ...current,
      title: changes.title ?? current.title,
      onboardingBrief: changes.brief ?? current.onboardingBrief,
      cadenceType: cadence.type,
      cadenceDays: cadence.days,
      deliveryHour: cadence.hour,
      deliveryMinute: cadence.minute,
      timezone: cadence.timezone,
      status,
    };
    const before = projectView(current);
    const changed = SETTINGS_FIELDS.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(projectView(proposed)[field]));
    if (changed.length === 0) return { ok: true, project: current, changed } as const;

    const [project] = await sql<ProjectRow[]>`
      update projects set
        title = ${proposed.title},
        onboarding_brief = ${proposed.onboardingBrief},
        cadence_type = ${cadence.type},
        cadence_days = ${sql.array(cadence.days)}::smallint[],
        delivery_hour = ${cadence.hour},
        delivery_minute = ${cadence.minute},
        timezone = ${cadence.timezone},
        status = ${status},
        archived_at = ${status === "ARCHIVED" ? (current.archivedAt ?? new Date()) : null},
        next_scheduled_at = ${status === "ACTIVE" ? nextScheduledAt(cadence, new Date()) : null},
        version = version + 1
      where organization_id = ${actor.organizationId} and id = ${projectId}
      returning *`;
    const after = projectView(project);
    await rescheduleDraft(sql, project);
    const action = changed.includes("status") ? (status === "ARCHIVED" ? "project.archived" : "project.restored") : "project.updated";
    await recordAudit(sql, auditFor(actor, action, { type: "project", id: project.id }, { before, after }), meta);
    if (changed.some((field) => field === "title" || field === "brief")) {
      await trackEvent(sql, { organizationId: actor.organizationId, userId: actor.userId, type: "project_updated", data: { projectId, changed } });
    }
    await trackEvent(sql, { organizationId: actor.organizationId, userId: actor.userId, type: "settings_updated", data: { projectId, changed } });
    return { ok: true, project, changed } as const;
  });
}

export interface PublicAccess {
  publicSubscribe: boolean;
  publicArchive: boolean;
}

export type SetPublicAccessResult = { ok: true; project: ProjectRow; changed: boolean } | { ok: false; reason: "not_found" | "forbidden" };

/**
 * Opens or closes the public subscribe form and the public archive. Owners and admins decide what strangers
 * may see or join; another organization's project is not found.
 */
export async function setProjectPublicAccess(
  db: Db,
  actor: Actor,
  projectId: string,
  access: PublicAccess,
  meta: RequestMeta,
): Promise<SetPublicAccessResult> {
  return db.begin(async (sql) => {
    const [current] = await sql<ProjectRow[]>`
      select * from projects where organization_id = ${actor.organizationId} and id = ${projectId} for update`;
    if (!current) return { ok: false, reason: "not_found" } as const;
    if (!canManageProjectLifecycle(actor.role)) return { ok: false, reason: "forbidden" } as const;
    const before: PublicAccess = { publicSubscribe: current.publicSubscribe, publicArchive: current.publicArchive };
    if (before.publicSubscribe === access.publicSubscribe && before.publicArchive === access.publicArchive) {
      return { ok: true, project: current, changed: false } as const;
    }
    const [project] = await sql<ProjectRow[]>`
      update projects set public_subscribe = ${access.publicSubscribe}, public_archive = ${access.publicArchive}
      where organization_id = ${actor.organizationId} and id = ${projectId}
      returning *`;
    await recordAudit(sql, auditFor(actor, "project.public_access_changed", { type: "project", id: projectId }, { before, after: access }), meta);
    return { ok: true, project, changed: true } as const;
  });
}

export type DeleteProjectResult = { ok: true } | { ok: false; reason: "not_found" | "forbidden" };

/**
 * Owners and admins delete; the project takes its episodes, notes and the conversation that made it
 * (sql/0007). Another organization's project is not found, whatever the actor's role.
 */
export async function deleteProject(db: Db, actor: Actor, projectId: string, meta: RequestMeta): Promise<DeleteProjectResult> {
  return db.begin(async (sql) => {
    const [current] = await sql<{ id: string }[]>`
      select id from projects where organization_id = ${actor.organizationId} and id = ${projectId} for update`;
    if (!current) return { ok: false, reason: "not_found" } as const;
    if (!canManageProjectLifecycle(actor.role)) return { ok: false, reason: "forbidden" } as const;
    const [project] = await sql<ProjectRow[]>`
      delete from projects where organization_id = ${actor.organizationId} and id = ${projectId} returning *`;
    await recordAudit(sql, auditFor(actor, "project.deleted", { type: "project", id: project.id }, { before: projectView(project) }), meta);
    return { ok: true } as const;
  });
}

/**
 * The next project whose slot is due (ACTIVE, not paused, `next_scheduled_at` passed), locked for this
 * transaction so another scheduler skips it. Across organizations by design: the scheduler serves them all.
 */
export async function lockNextDueProject(sql: Queryable): Promise<ProjectRow | undefined> {
  const [project] = await sql<ProjectRow[]>`
    select * from projects
    where status = 'ACTIVE' and cadence_type <> 'paused' and next_scheduled_at <= now()
    order by next_scheduled_at
    limit 1
    for update skip locked`;
  return project;
}

/**
 * Moves a project's schedule to its next slot and makes that slot's DRAFT. The version is left alone: this is
 * the schedule running, not an edit, and must not make an open settings form stale.
 */
export async function advanceSchedule(sql: Queryable, project: ProjectRow, next: Date | null): Promise<ProjectRow> {
  const [advanced] = await sql<ProjectRow[]>`
    update projects set next_scheduled_at = ${next}
    where organization_id = ${project.organizationId} and id = ${project.id}
    returning *`;
  await ensureNextDraft(sql, advanced);
  return advanced;
}

/** The project's upcoming slot has its DRAFT episode (after publishing, say); a slot already taken is left. */
export async function ensureNextDraft(sql: Queryable, project: Pick<ProjectRow, "id" | "organizationId" | "nextScheduledAt" | "status">): Promise<void> {
  if (!project.nextScheduledAt || project.status !== "ACTIVE") return;
  await sql`
    insert into episodes (organization_id, project_id, scheduled_for, status)
    values (${project.organizationId}, ${project.id}, ${project.nextScheduledAt}, 'DRAFT')
    on conflict (project_id, scheduled_for) do nothing`;
}

/** The project row, locked for the rest of the transaction: serialises "Generate now" per project. */
export async function lockProject(sql: Queryable, organizationId: string, projectId: string): Promise<ProjectRow | undefined> {
  const [project] = await sql<ProjectRow[]>`
    select * from projects where organization_id = ${organizationId} and id = ${projectId} for update`;
  return project;
}
