import http from "node:http";
import { describe, expect, it } from "vitest";
import { makeGraceful } from "../../app/lib/shutdown.server";
import { get, listen } from "../support/http";

function slowServer(delayMs: number) {
  let received!: () => void;
  const requestReceived = new Promise<void>((resolve) => (received = resolve));
  const events: string[] = [];
  const server = http.createServer((_req, res) => {
    received();
    res.on("finish", () => events.push("response sent"));
    setTimeout(() => res.end("finished"), delayMs);
  });
  return { server, requestReceived, events, graceful: makeGraceful(server) };
}

describe("graceful close", () => {
  it("lets an in-flight request finish, then resolves, and refuses new connections meanwhile", async () => {
    const { server, requestReceived, events, graceful } = slowServer(300);
    const base = await listen(server);
    const inFlight = get(base);
    await requestReceived;

    const closed = graceful.close(5_000).then(() => events.push("closed"));

    await expect(get(base)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const response = await inFlight;
    await closed;
    expect(response).toMatchObject({ status: 200, body: "finished" });
    expect(response.headers.connection).toBe("close");
    expect(events).toEqual(["response sent", "closed"]);
  });

  it("does not wait for idle keep-alive connections", async () => {
    const server = http.createServer((_req, res) => res.end("ok"));
    const graceful = makeGraceful(server);
    const base = await listen(server);
    const agent = new http.Agent({ keepAlive: true });
    await new Promise((resolve) => http.get(base, { agent }, (res) => res.resume().on("end", resolve)));

    const started = Date.now();
    await graceful.close(10_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    agent.destroy();
  });

  it("cuts a request that outlives the timeout, so shutdown always ends", async () => {
    const { server, requestReceived, graceful } = slowServer(60_000);
    const base = await listen(server);
    const hung = get(base).catch((error: NodeJS.ErrnoException) => error.code);
    await requestReceived;
    await graceful.close(200);
    expect(await hung).toBe("ECONNRESET");
  });
});
