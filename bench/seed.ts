import type { Db } from "../app/lib/db.server";
import { createSession } from "../app/models/sessions.server";

export interface SeedSize {
  organizations: number;
  projectsPerOrganization: number;
  episodesPerProject: number;
}

/**
 * Fills a migrated database with the list-view benchmark's data set, set-based in SQL: every organization gets
 * the same number of projects and every project the same number of published episodes, one a day back in time.
 * Returns a signed-in session cookie for a member of the first organization and one of its projects.
 */
export async function seedListViews(db: Db, size: SeedSize): Promise<{ cookie: string; projectId: string; counts: Record<string, number> }> {
  await db`
    insert into organizations (name)
    select 'Organization ' || g from generate_series(1, ${size.organizations}) g`;
  await db`
    insert into projects (organization_id, title, onboarding_brief, timezone, next_scheduled_at, created_at, updated_at)
    select o.id, 'Project ' || o.n || '.' || p,
           '## Focus' || chr(10) || chr(10) || 'Signals about topic ' || p || ' for organization ' || o.n || '.',
           'Europe/London', now() + interval '3 days', now() - (p || ' hours')::interval, now() - (p || ' hours')::interval
    from (select id, row_number() over (order by created_at, id) as n from organizations) o
    cross join generate_series(1, ${size.projectsPerOrganization}) p`;
  await db`
    insert into episodes (organization_id, project_id, status, title, content, scheduled_for, published_at, reading_minutes)
    select p.organization_id, p.id, 'PUBLISHED', 'Episode ' || e, 'The brief for week ' || e || '.',
           date_trunc('hour', now()) - (e || ' days')::interval, date_trunc('hour', now()) - (e || ' days')::interval + interval '4 minutes', 5
    from projects p
    cross join generate_series(1, ${size.episodesPerProject}) e`;
  // Steady state: autovacuum would have set the visibility map by now, which index-only scans rely on.
  await db`vacuum analyze`;
  // Flush the bulk load now rather than in a checkpoint during the measurement (needs superuser; skipped without).
  await db`checkpoint`.catch(() => undefined);

  const [organization] = await db<{ id: string }[]>`select id from organizations order by created_at, id limit 1`;
  const [user] = await db<{ id: string }[]>`
    insert into users (email, name, password_hash) values ('bench@example.com', 'Bench', 'unused') returning id`;
  await db`insert into memberships (organization_id, user_id, role) values (${organization.id}, ${user.id}, 'owner')`;
  const session = await createSession(db, {
    userId: user.id,
    organizationId: organization.id,
    ttlDays: 1,
    meta: { ip: null, userAgent: "bench", requestId: null },
  });
  const [project] = await db<{ id: string }[]>`
    select id from projects where organization_id = ${organization.id} order by updated_at desc limit 1`;
  const [counts] = await db<{ organizations: number; projects: number; episodes: number }[]>`
    select (select count(*)::int from organizations) as organizations,
           (select count(*)::int from projects) as projects,
           (select count(*)::int from episodes) as episodes`;
  return { cookie: `mf_session=${encodeURIComponent(btoa(JSON.stringify(session.token)))}`, projectId: project.id, counts };
}
