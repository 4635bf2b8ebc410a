import { beforeEach, describe, expect, it } from "vitest";
import { getEpisode } from "../../app/models/episodes.server";
import { joinOrganization, signUp, type SignedIn } from "../support/accounts";
import { claimNext, fail, publish, reportProgress } from "../support/episodes";
import { location, TestClient } from "../support/remix";
import { useRouteDatabase } from "../support/route-database";

/** The episode page and "Generate now", through the built routes: what a person sees at each stage. */

const database = useRouteDatabase();
beforeEach(async () => {
  await database.db`delete from episode_schedule_queue`;
});

async function createProject(person: SignedIn, title = "Grid storage"): Promise<string> {
  const response = await person.client.request("/api/projects", {
    method: "POST",
    body: JSON.stringify({ title }),
    headers: { "Content-Type": "application/json" },
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { project: { id: string } }).project.id;
}

async function generateNow(person: SignedIn, projectId: string): Promise<string> {
  const response = await person.client.post(`/projects/${projectId}`, { intent: "generate-now" });
  expect(response.status, await response.clone().text()).toBe(302);
  return /^\/episodes\/([0-9a-f-]{36})$/.exec(location(response) ?? "")![1];
}

/** The page's main content as rendered (the data for hydration, which repeats it as JSON, left out). */
const page = async (person: SignedIn, episodeId: string) => {
  const response = await person.client.get(`/episodes/${episodeId}`);
  expect(response.status).toBe(200);
  const html = await response.text();
  return html.slice(html.indexOf("<main"), html.indexOf("</main>")).replaceAll("<!-- -->", "");
};
const REFRESH = '<noscript><meta http-equiv="refresh" content="10"/></noscript>';
const currentStep = (html: string) => /<li[^>]*aria-current="step"[^>]*>([^<]*)/.exec(html)?.[1] ?? null;

describe("Generate now and the episode page", () => {
  it("queues an episode from the project page and opens it; a second request while it is on its way is refused with a reason", async () => {
    const owner = await signUp();
    const projectId = await createProject(owner);
    expect(await (await owner.client.get(`/projects/${projectId}`)).text()).toContain(">Generate now</button>");

    const episodeId = await generateNow(owner, projectId);
    const html = await page(owner, episodeId);
    expect(html).toContain(REFRESH);
    expect(html).toContain("Waiting to start");
    expect(html).toContain("Waiting for a free researcher");
    expect(html).toMatch(/<ol class="generation-steps">.*Research.*Writing.*Review.*<\/ol>/s);
    expect(currentStep(html)).toBeNull();
    expect(html).toContain('aria-live="polite"');

    const listed = await (await owner.client.get(`/projects/${projectId}`)).text();
    expect(listed).toContain(`href="/episodes/${episodeId}"`);
    expect(listed).toMatch(/badge--queued">Queued</);

    const again = await owner.client.post(`/projects/${projectId}`, { intent: "generate-now" });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("An episode is already on its way for this project.");
  });

  it("shows the current step, percent and message while generating, and what research found before the writer finishes", async () => {
    const owner = await signUp();
    const episodeId = await generateNow(owner, await createProject(owner));
    const claim = await claimNext(database.db);
    await reportProgress(database.db, claim, {
      stage: "research",
      percent: 30,
      message: "Reading the regulator consultation",
      findings: ["Ofgem proposes a cap-and-floor scheme for long-duration storage"],
      sources: [
        { title: "Ofgem consultation", url: "https://www.ofgem.gov.uk/consultation" },
        { title: "Sneaky source", url: "javascript:alert(1)" },
      ],
    });
    let html = await page(owner, episodeId);
    expect(currentStep(html)).toBe("Research");
    expect(html).toContain("Now: researching.");
    expect(html).toContain("Reading the regulator consultation");
    expect(html).toMatch(/<progress id="generation-percent" max="100" value="30"/);
    expect(html).toContain("typically take 2–5 minutes");
    expect(html).toContain("Ofgem proposes a cap-and-floor scheme for long-duration storage");
    expect(html).toContain('href="https://www.ofgem.gov.uk/consultation" rel="noopener noreferrer"');
    expect(html).toContain("Sneaky source");
    expect(html.slice(html.indexOf('class="generation'))).not.toMatch(/href="(?!https:)/);
    expect(html).toContain(REFRESH);

    await reportProgress(database.db, claim, { stage: "writing", percent: 66, message: "Writing the draft" });
    html = await page(owner, episodeId);
    expect(currentStep(html)).toBe("Writing");
    expect(html).toMatch(/generation-steps__step--done"[^>]*>Research/);
  });

  it("reads a published episode: markdown without raw HTML, safe source links, reading time; review notes for owners and admins only", async () => {
    const owner = await signUp();
    const member = await joinOrganization(owner, "member");
    const admin = await joinOrganization(owner, "admin");
    const episodeId = await generateNow(owner, await createProject(owner));
    const claim = await claimNext(database.db);
    await publish(database.db, claim, {
      title: "Storage gets a price floor",
      content: [
        "## What changed",
        "Ofgem *confirmed* the scheme.",
        '<script>alert("boom")</script>',
        '<img src="x" onerror="alert(2)">',
        "[a trap](javascript:alert(3))",
      ].join("\n\n"),
      sources: [
        { title: "Ofgem decision", url: "https://www.ofgem.gov.uk/decision", publisher: "Ofgem" },
        { title: "Data URL", url: "data:text/html,<script>alert(4)</script>" },
      ],
      qa: { passed: false, notes: "Two claims lack a source." },
    });

    const html = await page(owner, episodeId);
    expect(html).toContain('<h1 id="episode-title">Storage gets a price floor</h1>');
    expect(html).toMatch(/Published <time dateTime="[^"]+">[^<]+<\/time> · 1 min read/i);
    expect(html).toContain("<h2>What changed</h2>");
    expect(html).toContain("<em>confirmed</em>");
    // Raw HTML goes, script with its content (the sanitiser the email uses); only the https link is a link.
    expect(html).not.toContain("boom");
    expect(html).toContain("<span>a trap</span>");
    expect(html).not.toMatch(/<script|<img|onerror|href="javascript:|href="data:/);
    expect(html).toContain('href="https://www.ofgem.gov.uk/decision" rel="noopener noreferrer"');
    expect(html).toContain("Two claims lack a source.");
    expect(html).not.toContain("<noscript><meta");
    expect(await page(admin, episodeId)).toContain("Two claims lack a source.");
    const forMember = await page(member, episodeId);
    expect(forMember).toContain("Storage gets a price floor");
    expect(forMember).not.toContain("Two claims lack a source.");
  });

  it("shows a failed episode's reason; owners try again (post, redirect, get), members are told who can", async () => {
    const owner = await signUp();
    const member = await joinOrganization(owner, "member");
    const episodeId = await generateNow(owner, await createProject(owner));
    await fail(database.db, await claimNext(database.db), "The writer could not reach the model server (HTTP 500).");

    const html = await page(owner, episodeId);
    expect(html).toContain("The writer could not reach the model server (HTTP 500).");
    expect(html).toContain(">Try again</button>");
    expect(html).not.toContain("<noscript><meta");
    const forMember = await page(member, episodeId);
    expect(forMember).not.toContain(">Try again</button>");
    expect(forMember).toContain("An owner or admin of your organization can try again.");
    const refused = await member.client.post(`/episodes/${episodeId}`, { intent: "retry" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("Only owners and admins can ask for an episode");

    const retried = await owner.client.post(`/episodes/${episodeId}`, { intent: "retry" });
    expect(retried.status).toBe(302);
    expect(location(retried)).toBe(`/episodes/${episodeId}`);
    expect((await getEpisode(database.db, owner.organizationId, episodeId))!.status).toBe("QUEUED");
    expect(await page(owner, episodeId)).toContain("Waiting to start");
    const twice = await owner.client.post(`/episodes/${episodeId}`, { intent: "retry" });
    expect(twice.status).toBe(409);
    expect(await twice.text()).toContain("This episode is no longer failed");
  });

  it("keeps organizations apart and refuses what it cannot use: 404 for a stranger, 403 for members asking for episodes, 400 for bad bodies", async () => {
    const owner = await signUp();
    const member = await joinOrganization(owner, "member");
    const projectId = await createProject(owner);
    const episodeId = await generateNow(owner, projectId);

    const stranger = await signUp("Eve Outsider");
    expect((await stranger.client.get(`/episodes/${episodeId}`)).status).toBe(404);
    expect((await stranger.client.post(`/episodes/${episodeId}`, { intent: "retry" })).status).toBe(404);
    expect((await stranger.client.get(`/episodes/${episodeId}/events`)).status).toBe(404);
    expect((await stranger.client.post(`/projects/${projectId}`, { intent: "generate-now" })).status).toBe(404);
    expect((await stranger.client.get("/episodes/123")).status).toBe(404);

    expect(await (await member.client.get(`/projects/${projectId}`)).text()).not.toContain(">Generate now</button>");
    const refused = await member.client.post(`/projects/${projectId}`, { intent: "generate-now" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("Only owners and admins can ask for an episode");

    const json = await owner.client.request(`/episodes/${episodeId}`, {
      method: "POST",
      body: JSON.stringify({ intent: "retry" }),
      headers: { "Content-Type": "application/json" },
    });
    expect(json.status).toBe(415);
    expect((await owner.client.post(`/episodes/${episodeId}`, { intent: "delete" })).status).toBe(400);

    const signedOut = await new TestClient().get(`/episodes/${episodeId}`);
    expect(signedOut.status).toBe(302);
    expect(location(signedOut)).toBe(`/signin?redirectTo=${encodeURIComponent(`/episodes/${episodeId}`)}`);
  });
});
