import { XMLParser, XMLValidator } from "fast-xml-parser";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { signUp, type SignedIn } from "../support/accounts";
import { location, TestClient } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";

const database = useRouteDatabase();
let db: Db;
let owner: SignedIn;
let stranger: SignedIn;
let projectId: string;
let episodeId: string;

const ORIGIN = { Origin: "http://app.test", Host: "app.test" };
// Markup and characters an LLM could produce that must survive as text in XML.
const TRICKY_TITLE = `Storage & "grids" <script>alert(1)</script> \u0007 ünïcode`;

async function insertProject(organizationId: string, title: string): Promise<string> {
  const [project] = await db<{ id: string }[]>`
    insert into projects (organization_id, title, onboarding_brief, cadence_type, cadence_days)
    values (${organizationId}, ${title}, 'A brief.', 'weekly', '{1}') returning id`;
  return project.id;
}

async function publish(organizationId: string, project: string, title: string, content: string, at: Date): Promise<string> {
  const [episode] = await db<{ id: string }[]>`
    insert into episodes (organization_id, project_id, scheduled_for, status, title, summary, content, published_at, reading_minutes)
    values (${organizationId}, ${project}, ${at}, 'PUBLISHED', ${title}, ${"A summary with <b>tags</b> & ampersands"}, ${content}, ${at}, 3)
    returning id`;
  return episode.id;
}

beforeAll(async () => {
  db = database.db;
  owner = await signUp("Olive Owner");
  stranger = await signUp("Sid Stranger", undefined, new TestClient("203.0.113.90"));
  projectId = await insertProject(owner.organizationId, "Grid storage");
  episodeId = await publish(
    owner.organizationId,
    projectId,
    TRICKY_TITLE,
    "# Heading\n\nBody with a [link](https://example.com/a?b=1&c=2) and <iframe src=x></iframe> raw html.",
    new Date("2026-11-30T07:00:00Z"),
  );
  await publish(owner.organizationId, projectId, "Second episode", "Plain body.", new Date("2026-12-01T07:00:00Z"));
  await db`
    insert into episodes (organization_id, project_id, scheduled_for, status)
    values (${owner.organizationId}, ${projectId}, ${new Date("2026-12-08T07:00:00Z")}, 'DRAFT')`;
});

async function setPublicArchive(on: boolean) {
  const response = await owner.client.request(`/projects/${projectId}/settings`, {
    method: "POST",
    body: new URLSearchParams(on ? { intent: "public-access", publicArchive: "on" } : { intent: "public-access" }),
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...ORIGIN },
  });
  expect(response.status, await response.clone().text()).toBe(302);
}

describe("the archive of a private project", () => {
  it("lists the published episodes, newest first, to the organization's members", async () => {
    const response = await owner.client.get(`/projects/${projectId}/archive`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html.indexOf("Second episode")).toBeGreaterThan(-1);
    expect(html.indexOf("Second episode")).toBeLessThan(html.indexOf("Storage &amp;"));
    expect(html).not.toContain("<script>alert(1)</script>");
    // The draft is not in the archive.
    expect(html.match(/\/archive\/[0-9a-f-]{36}/g)).toHaveLength(2);
  });

  it("asks a visitor without a session to sign in, for the archive, an episode and the feed", async () => {
    for (const path of [`/projects/${projectId}/archive`, `/projects/${projectId}/archive/${episodeId}`, `/projects/${projectId}/feed.xml`]) {
      const response = await new TestClient().get(path);
      expect(response.status, path).toBe(302);
      expect(location(response), path).toBe(`/signin?redirectTo=${encodeURIComponent(path)}`);
    }
  });

  it("is not found for a member of another organization", async () => {
    for (const path of [`/projects/${projectId}/archive`, `/projects/${projectId}/archive/${episodeId}`, `/projects/${projectId}/feed.xml`]) {
      expect((await stranger.client.get(path)).status, path).toBe(404);
    }
  });

  it("shows a published episode, but not an unpublished one or one of another project", async () => {
    const page = await owner.client.get(`/projects/${projectId}/archive/${episodeId}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Body with a");
    expect(html).not.toContain("<iframe");
    const [draft] = await db<{ id: string }[]>`select id from episodes where project_id = ${projectId} and status = 'DRAFT'`;
    expect((await owner.client.get(`/projects/${projectId}/archive/${draft.id}`)).status).toBe(404);
    const other = await insertProject(owner.organizationId, "Other");
    expect((await owner.client.get(`/projects/${other}/archive/${episodeId}`)).status).toBe(404);
  });
});

describe("the Atom feed", () => {
  it("of a project with no episode yet says it was updated with the project", async () => {
    const emptyId = await insertProject(owner.organizationId, "Nothing yet");
    const [project] = await db<{ updatedAt: Date }[]>`select updated_at from projects where id = ${emptyId}`;
    const xml = await (await owner.client.get(`/projects/${emptyId}/feed.xml`)).text();
    const feed = new XMLParser().parse(xml).feed;
    expect(feed.entry).toBeUndefined();
    expect(feed.updated).toBe(project.updatedAt.toISOString());
  });

  it("is valid XML with every value escaped and the episodes as entries", async () => {
    const response = await owner.client.get(`/projects/${projectId}/feed.xml`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/atom+xml; charset=utf-8");
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    const xml = await response.text();
    expect(XMLValidator.validate(xml)).toBe(true);
    const feed = new XMLParser({ ignoreAttributes: false }).parse(xml).feed;
    expect(feed["@_xmlns"]).toBe("http://www.w3.org/2005/Atom");
    expect(feed.id).toBe(`urn:uuid:${projectId}`);
    expect(feed.entry).toHaveLength(2);
    const tricky = feed.entry.find((entry: { id: string }) => entry.id === `urn:uuid:${episodeId}`);
    // The control character cannot be in XML at all; everything else comes back as the text it was.
    expect(tricky.title["#text"]).toBe(TRICKY_TITLE.replace("\u0007", ""));
    expect(tricky.link["@_href"]).toMatch(new RegExp(`/projects/${projectId}/archive/${episodeId}$`));
    expect(tricky.summary["#text"]).toBe("A summary with <b>tags</b> & ampersands");
    const content: string = tricky.content["#text"];
    expect(content).toMatch(/<a href="https:\/\/example.com\/a\?b=1&amp;c=2"[^>]*>link<\/a>/);
    expect(content).not.toContain("<iframe");
    expect(feed.updated).toBe(new Date(Math.max(...feed.entry.map((e: { updated: string }) => Date.parse(e.updated)))).toISOString());
  });
});

describe("a public archive", () => {
  it("is readable without signing in once the owner opens it, and private again once closed", async () => {
    await setPublicArchive(true);
    const visitor = new TestClient("203.0.113.91");
    const archive = await visitor.get(`/projects/${projectId}/archive`);
    expect(archive.status).toBe(200);
    expect(await archive.text()).toContain("Second episode");
    expect((await visitor.get(`/projects/${projectId}/archive/${episodeId}`)).status).toBe(200);
    const feed = await visitor.get(`/projects/${projectId}/feed.xml`);
    expect(feed.status).toBe(200);
    expect(feed.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(XMLValidator.validate(await feed.text())).toBe(true);
    // Public means readable by anyone, members of other organizations included.
    expect((await stranger.client.get(`/projects/${projectId}/archive`)).status).toBe(200);
    const [audit] = await db`select before, after from audit_log where action = 'project.public_access_changed' order by created_at desc limit 1`;
    expect(audit).toMatchObject({ before: { publicArchive: false }, after: { publicArchive: true, publicSubscribe: false } });

    await setPublicArchive(false);
    expect((await visitor.get(`/projects/${projectId}/archive`)).status).toBe(302);
  });

  it("can only be opened by owners and admins of the project's organization", async () => {
    const response = await stranger.client.request(`/projects/${projectId}/settings`, {
      method: "POST",
      body: new URLSearchParams({ intent: "public-access", publicArchive: "on" }),
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...ORIGIN },
    });
    expect(response.status).toBe(404);
    const [project] = await db<{ publicArchive: boolean }[]>`select public_archive from projects where id = ${projectId}`;
    expect(project.publicArchive).toBe(false);
  });
});
