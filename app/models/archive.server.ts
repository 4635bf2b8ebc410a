import type { Queryable } from "~/lib/db.server";
import type { EpisodeSource } from "./episodes.server";

export interface ArchiveProject {
  id: string;
  organizationId: string;
  title: string;
  timezone: string;
  publicArchive: boolean;
  publicSubscribe: boolean;
  updatedAt: Date;
}

export interface ArchiveEpisode {
  id: string;
  title: string;
  summary: string | null;
  content: string;
  sources: EpisodeSource[];
  publishedAt: Date;
  updatedAt: Date;
  readingMinutes: number | null;
}

export type ArchiveAccess =
  | { ok: true; project: ArchiveProject }
  | { ok: false; reason: "sign_in_required" | "not_found" };

/**
 * Who may read a project's archive: anyone when the project made it public, otherwise only the organization it
 * belongs to. Without a session a private archive asks for sign-in whether or not it exists; with one, another
 * organization's project is not found.
 */
export async function archiveAccess(sql: Queryable, projectId: string, viewerOrganizationId: string | null): Promise<ArchiveAccess> {
  const [project] = await sql<ArchiveProject[]>`
    select id, organization_id, title, timezone, public_archive, public_subscribe, updated_at
    from projects
    where id = ${projectId} and (public_archive or organization_id = ${viewerOrganizationId})`;
  if (project) return { ok: true, project };
  return { ok: false, reason: viewerOrganizationId ? "not_found" : "sign_in_required" };
}

/** The project's published episodes, newest first. */
export async function listArchiveEpisodes(sql: Queryable, project: ArchiveProject, limit = 50): Promise<ArchiveEpisode[]> {
  return sql<ArchiveEpisode[]>`
    select id, title, summary, content, sources, published_at, updated_at, reading_minutes
    from episodes
    where organization_id = ${project.organizationId} and project_id = ${project.id} and status = 'PUBLISHED'
    order by published_at desc
    limit ${limit}`;
}

export async function getArchiveEpisode(sql: Queryable, project: ArchiveProject, episodeId: string): Promise<ArchiveEpisode | undefined> {
  const [episode] = await sql<ArchiveEpisode[]>`
    select id, title, summary, content, sources, published_at, updated_at, reading_minutes
    from episodes
    where organization_id = ${project.organizationId} and project_id = ${project.id} and id = ${episodeId} and status = 'PUBLISHED'`;
  return episode;
}
