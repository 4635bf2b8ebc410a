import http from "node:http";
import net from "node:net";
import path from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import { pino } from "pino";
import { createHttpApp, type HttpAppOptions } from "../../app/lib/express-app.server";
import { createRemixHandler } from "../../app/lib/remix-handler.server";
import { listen } from "./http";

export interface EdgeApp {
  baseUrl: string;
  port: number;
  /** Every JSON line the app's logger wrote. */
  logLines: string[];
  close(): Promise<void>;
}

/**
 * The real HTTP edge (createHttpApp) around the real Remix build (`npm run build`), in this process on a free
 * port, the way server.ts wires them. The routes use whatever database `setDb` installed (useRouteDatabase).
 */
export async function startEdgeApp(options: Partial<Omit<HttpAppOptions, "handler" | "logger">> = {}): Promise<EdgeApp> {
  const build = (await import(pathToFileURL(path.resolve("build/index.js")).href)) as ServerBuild;
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  const app = createHttpApp({
    logger: pino({ level: "info" }, sink),
    checkReadiness: async () => ({ ready: true, checks: {} }),
    trustProxy: false,
    ...options,
    handler: createRemixHandler(build, "production"),
  });
  const server = http.createServer(app);
  const baseUrl = await listen(server);
  return {
    baseUrl,
    port: Number(new URL(baseUrl).port),
    logLines,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SentResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with exactly the headers given (fetch would add Sec-Fetch-Mode and friends of its own). */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<SentResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    // Node sends GET and DELETE bodies without a length unless told: the server would read them as a next request.
    if (options.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(options.body));
    const req = http.request(url, { method: options.method ?? "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * Writes `head` (a request line and headers, `\r\n` added) to a raw socket and reads the answer: for requests
 * fetch and node:http refuse to send, such as `GET *` or a Host with spaces.
 */
export function sendRaw(port: number, head: string[]): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [headers, ...body] = text.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0);
      resolve({ status, headers, body: body.join("\r\n\r\n") });
    });
    socket.write(`${[...head, "Connection: close"].join("\r\n")}\r\n\r\n`);
  });
}

/** A cookie jar of one: the value of `name` from a response's Set-Cookie headers, as a Cookie header. */
export function cookieFrom(response: SentResponse, name: string): string {
  const cookie = (response.headers["set-cookie"] ?? []).find((line) => line.startsWith(`${name}=`));
  if (!cookie) throw new Error(`no ${name} cookie in ${response.status} ${JSON.stringify(response.headers)}`);
  return cookie.split(";")[0];
}

/**
 * Signs a new person up over HTTP the way a browser does, then confirms the address from the link in the outbox
 * (read from `db`, the app's database), which signs them in. Returns the session cookie.
 */
export async function signUpOverHttp(
  baseUrl: string,
  db: (strings: TemplateStringsArray, ...values: string[]) => Promise<{ payload: { verifyUrl: string } }[]>,
  fields: { name: string; email: string; password: string; redirectTo?: string },
): Promise<{ cookie: string; location: string | undefined }> {
  const headers = { Origin: baseUrl, "Content-Type": "application/x-www-form-urlencoded" };
  const signup = await send(`${baseUrl}/signup`, { method: "POST", headers, body: new URLSearchParams(fields).toString() });
  if (signup.status !== 302) throw new Error(`sign-up answered ${signup.status}: ${signup.body.slice(0, 300)}`);
  const [verification] = await db`
    select payload from email_deliveries where kind = 'email_verification' and to_email = ${fields.email.toLowerCase()}
    order by created_at desc limit 1`;
  if (!verification) throw new Error(`no verification email for ${fields.email} in the outbox`);
  const link = new URL(verification.payload.verifyUrl);
  const confirmed = await send(`${baseUrl}${link.pathname}${link.search}`, { method: "POST", headers, body: "" });
  if (confirmed.status !== 302) throw new Error(`the verification link answered ${confirmed.status}: ${confirmed.body.slice(0, 300)}`);
  return { cookie: cookieFrom(confirmed, "mf_session"), location: confirmed.headers.location };
}
