import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setDb } from "../../app/lib/db.server";
import { createLogger } from "../../app/lib/logger.server";
import { getEpisode } from "../../app/models/episodes.server";
import { startEpisodeHub, stopEpisodeHub, type EpisodeHub } from "../../app/realtime/episode-hub.server";
import type { EpisodeLiveState } from "../../app/realtime/episode-state";
import { signUp, type SignedIn } from "../support/accounts";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startEdgeApp, type EdgeApp } from "../support/edge";
import { claimNext, publish, reportProgress, waitFor } from "../support/episodes";
import { get, listen } from "../support/http";
import { location } from "../support/remix";

/** The events route over real HTTP: the built app behind the production express stack, on a port of its own. */

process.env.LOG_LEVEL = "silent";
let database: TestDatabase;
let edge: EdgeApp;
let baseUrl: string;
let hub: EpisodeHub;

beforeAll(async () => {
  database = await createTestDatabase();
  setDb(database.db);
  hub = startEpisodeHub({ db: database.db, directUrl: database.url, logger: createLogger("silent"), heartbeatMs: 100 });
  edge = await startEdgeApp();
  baseUrl = edge.baseUrl;
});
afterAll(async () => {
  await stopEpisodeHub();
  await edge.close();
  await database.drop();
});

interface Frame {
  id?: number;
  data?: string;
  retry?: number;
  comment?: string;
}

/** An EventSource stand-in that keeps every frame in arrival order. */
function openEvents(url: string, headers: Record<string, string> = {}) {
  const frames: Frame[] = [];
  const request = http.get(url, { headers, agent: false });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.on("response", resolve);
    request.on("error", reject);
  });
  const ended = response.then(
    (res) =>
      new Promise<void>((resolve) => {
        let buffer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const frame: Frame = {};
            for (const line of buffer.slice(0, end).split("\n")) {
              if (line.startsWith(":")) frame.comment = line.slice(1).trim();
              else if (line.startsWith("id: ")) frame.id = Number(line.slice(4));
              else if (line.startsWith("data: ")) frame.data = line.slice(6);
              else if (line.startsWith("retry: ")) frame.retry = Number(line.slice(7));
              else throw new Error(`unexpected line ${JSON.stringify(line)}`);
            }
            frames.push(frame);
            buffer = buffer.slice(end + 2);
          }
        });
        res.on("close", resolve);
      }),
    () => undefined,
  );
  const events = () => frames.filter((frame) => frame.data !== undefined).map((frame) => ({ id: frame.id!, state: JSON.parse(frame.data!) as EpisodeLiveState }));
  return { frames, events, response, ended, close: () => request.destroy() };
}

function cookies(person: SignedIn): Record<string, string> {
  return { Cookie: [...person.client.cookies].map(([name, value]) => `${name}=${value}`).join("; ") };
}

/** A person, their project (through the API) and an episode queued with Generate now on the project page. */
async function personWithQueuedEpisode(): Promise<{ person: SignedIn; episodeId: string }> {
  await database.db`delete from episode_schedule_queue`;
  const person = await signUp();
  const created = await person.client.request("/api/projects", {
    method: "POST",
    body: JSON.stringify({ title: "Grid storage" }),
    headers: { "Content-Type": "application/json" },
  });
  expect(created.status).toBe(201);
  const { project } = (await created.json()) as { project: { id: string } };
  const generated = await person.client.post(`/projects/${project.id}`, { intent: "generate-now" });
  expect(generated.status).toBe(302);
  const episodeId = /^\/episodes\/([0-9a-f-]{36})$/.exec(location(generated) ?? "")?.[1];
  expect(episodeId).toBeDefined();
  return { person, episodeId: episodeId! };
}

describe("the episode events route", () => {
  it("streams the current state at once, then every change with increasing ids and heartbeats between, and ends after PUBLISHED", async () => {
    const { person, episodeId } = await personWithQueuedEpisode();
    const stream = openEvents(`${baseUrl}/episodes/${episodeId}/events`, { ...cookies(person), "Accept-Encoding": "gzip" });
    const res = await stream.response;
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["x-accel-buffering"]).toBe("no");
    // Compression would hold the events back in its buffer.
    expect(res.headers["content-encoding"]).toBeUndefined();

    const queued = (await getEpisode(database.db, person.organizationId, episodeId))!;
    await waitFor(stream.events, (events) => events.length === 1, "the first event");
    expect(stream.frames[0]).toEqual({ retry: 3000 });
    expect(stream.events()[0]).toMatchObject({ id: queued.version, state: { id: episodeId, status: "QUEUED", version: queued.version } });
    await waitFor(() => stream.frames, (frames) => frames.some((frame) => frame.comment === "heartbeat"), "a heartbeat");

    const claim = await claimNext(database.db);
    await waitFor(stream.events, (events) => events.at(-1)!.id === claim.episode.version, "the start of generation");
    const progressed = await reportProgress(database.db, claim, {
      stage: "research",
      percent: 30,
      message: "Reading the regulator's consultation",
      findings: ["Ofgem proposes a cap-and-floor scheme for storage"],
      sources: [{ title: "Ofgem consultation", url: "https://www.ofgem.gov.uk/consultation" }],
    });
    await waitFor(stream.events, (events) => events.at(-1)!.id === progressed.version, "the research progress");
    await publish(database.db, claim);
    await stream.ended;

    const events = stream.events();
    const ids = events.map((event) => event.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.map((event) => event.state.status)).toEqual(["QUEUED", "GENERATING", "GENERATING", "PUBLISHED"]);
    expect(events.every((event) => event.state.version === event.id)).toBe(true);
    expect(events[2].state).toMatchObject({
      stage: "research",
      percent: 30,
      findings: ["Ofgem proposes a cap-and-floor scheme for storage"],
      sources: [{ title: "Ofgem consultation", url: "https://www.ofgem.gov.uk/consultation" }],
    });
    expect(events.at(-1)!.state).toMatchObject({ final: true, status: "PUBLISHED" });
    await waitFor(() => hub.stats().subscribers, (count) => count === 0, "the finished stream to unsubscribe");
  });

  it("resumes from Last-Event-ID: only newer states are sent, and a client that has the final state is told to stop (204)", async () => {
    const { person, episodeId } = await personWithQueuedEpisode();
    const claim = await claimNext(database.db);
    const progressed = await reportProgress(database.db, claim, { stage: "writing", percent: 60, message: "Drafting" });

    const behind = openEvents(`${baseUrl}/episodes/${episodeId}/events`, { ...cookies(person), "Last-Event-ID": String(claim.episode.version) });
    await waitFor(behind.events, (events) => events.length === 1, "the newer state");
    expect(behind.events()[0]).toMatchObject({ id: progressed.version, state: { message: "Drafting" } });

    const upToDate = openEvents(`${baseUrl}/episodes/${episodeId}/events`, { ...cookies(person), "Last-Event-ID": String(progressed.version) });
    await waitFor(() => upToDate.frames, (frames) => frames.some((frame) => frame.comment === "heartbeat"), "the stream to be open");
    expect(upToDate.events()).toEqual([]);
    const published = await publish(database.db, claim);
    await Promise.all([behind.ended, upToDate.ended]);
    expect(upToDate.events().map((event) => event.id)).toEqual([published.version]);

    const done = await get(`${baseUrl}/episodes/${episodeId}/events`, { ...cookies(person), "Last-Event-ID": String(published.version) });
    expect(done.status).toBe(204);
    const again = await get(`${baseUrl}/episodes/${episodeId}/events`, cookies(person));
    expect(again.status).toBe(200);
    expect(again.body).toContain(`id: ${published.version}\n`);
  });

  it("stops watching when the client goes away", async () => {
    const { person, episodeId } = await personWithQueuedEpisode();
    const stream = openEvents(`${baseUrl}/episodes/${episodeId}/events`, cookies(person));
    await waitFor(stream.events, (events) => events.length === 1, "the first event");
    expect(hub.stats().subscribers).toBe(1);
    stream.close();
    await waitFor(() => hub.stats().subscribers, (count) => count === 0, "the subscription to end");
  });

  it("answers 404 for another organization's episode or a malformed id, and sends a signed-out visitor to sign in", async () => {
    const { episodeId } = await personWithQueuedEpisode();
    const stranger = await signUp("Eve Outsider");
    expect((await get(`${baseUrl}/episodes/${episodeId}/events`, cookies(stranger))).status).toBe(404);
    expect((await get(`${baseUrl}/episodes/not-an-id/events`, cookies(stranger))).status).toBe(404);
    expect(hub.stats().subscribers).toBe(0);

    const signedOut = await get(`${baseUrl}/episodes/${episodeId}/events`);
    expect(signedOut.status).toBe(302);
    expect(signedOut.headers.location).toBe(`/signin?redirectTo=${encodeURIComponent(`/episodes/${episodeId}/events`)}`);
  });

  it("ends every open stream when the hub stops on shutdown, so closing the server does not wait for them, and answers 503 after", async () => {
    const { person, episodeId } = await personWithQueuedEpisode();
    const stream = openEvents(`${baseUrl}/episodes/${episodeId}/events`, cookies(person));
    await waitFor(stream.events, (events) => events.length === 1, "the first event");
    await stopEpisodeHub();
    await stream.ended;
    const refused = await get(`${baseUrl}/episodes/${episodeId}/events`, cookies(person));
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("3");
  });
});
