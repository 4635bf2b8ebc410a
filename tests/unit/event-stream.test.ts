import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { attachEventStream, EventStreamBody } from "../../app/lib/event-stream.server";
import { listen } from "../support/http";

const frame = (text: string) => Buffer.from(text);
const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server whose every request gets a fresh event stream, handed to the test. */
async function serveStreams(onStream: (body: EventStreamBody, ended: Promise<void>) => void): Promise<number> {
  const server = http.createServer((_req, res) => {
    let markEnded!: () => void;
    const ended = new Promise<void>((resolve) => (markEnded = resolve));
    const body = new EventStreamBody(new AbortController().signal, markEnded);
    body.write(frame("retry: 3000\n\n"));
    attachEventStream(res, 200, new Headers({ "Content-Type": "text/event-stream" }), body);
    onStream(body, ended);
  });
  servers.push(server);
  const url = await listen(server);
  return Number(new URL(url).port);
}

/** Everything the socket receives until the server closes it. */
function rawRequest(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString()));
    socket.on("error", reject);
  });
}

describe("event stream body", () => {
  it("read as a web stream, gives the frames written before and after the reader came, then ends", async () => {
    let ended = 0;
    const body = new EventStreamBody(new AbortController().signal, () => ended++);
    body.write(frame("a"));
    const reader = body.getReader();
    const first = await reader.read();
    body.write(frame("b"));
    body.end();
    body.end();
    const second = await reader.read();
    expect(Buffer.from(first.value!).toString() + Buffer.from(second.value!).toString()).toBe("ab");
    expect((await reader.read()).done).toBe(true);
    expect(ended).toBe(1);
  });

  it("ends when the request's signal aborts before the socket is attached", () => {
    const abort = new AbortController();
    let ended = 0;
    const body = new EventStreamBody(abort.signal, () => ended++);
    abort.abort();
    expect(body.isEnded).toBe(true);
    expect(ended).toBe(1);
    body.write(frame("ignored"));
  });

  it("attached, sends frames as they are, delimited by closing the connection, without chunk framing", async () => {
    const port = await serveStreams((body) => {
      body.write(frame("id: 1\ndata: {}\n\n"));
      setTimeout(() => body.end(), 20);
    });
    const raw = await rawRequest(port);
    const [head, payload] = raw.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head.toLowerCase()).not.toContain("transfer-encoding");
    expect(head.toLowerCase()).toContain("connection: close");
    expect(payload).toBe("retry: 3000\n\nid: 1\ndata: {}\n\n");
  });

  it("ends, once, when the client goes away", async () => {
    let streamEnded!: Promise<void>;
    let stream!: EventStreamBody;
    const port = await serveStreams((body, ended) => {
      stream = body;
      streamEnded = ended;
    });
    const socket = net.connect(port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await new Promise((resolve) => socket.once("data", resolve));
    socket.destroy();
    await streamEnded;
    expect(stream.isEnded).toBe(true);
  });

  it("drops a client that stops reading once a megabyte waits unsent", async () => {
    let stream!: EventStreamBody;
    const port = await serveStreams((body) => (stream = body));
    const socket = net.connect(port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await new Promise((resolve) => socket.once("data", resolve));
    socket.pause();
    const chunk = frame(`data: ${"x".repeat(64 * 1024)}\n\n`);
    for (let i = 0; i < 200 && !stream.isEnded; i++) stream.write(chunk);
    expect(stream.isEnded).toBe(true);
    socket.destroy();
  });
});
