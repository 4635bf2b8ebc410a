import path from "node:path";
import { pathToFileURL } from "node:url";
import { createRequestHandler, type AppLoadContext, type ServerBuild } from "@remix-run/node";

const BASE = "http://app.test";

let handlerPromise: Promise<(request: Request, context: AppLoadContext) => Promise<Response>> | undefined;

/** The real route modules from `npm run build`, called in-process: no HTTP, but every loader and action. */
function remixHandler() {
  handlerPromise ??= import(pathToFileURL(path.resolve("build/index.js")).href).then((build: ServerBuild) =>
    createRequestHandler(build, "production"),
  );
  return handlerPromise;
}

/** A browser stand-in with its own cookie jar and address. */
export class TestClient {
  cookies = new Map<string, string>();

  constructor(readonly ip = "203.0.113.10") {}

  async request(pathname: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("Cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    headers.set("User-Agent", headers.get("User-Agent") ?? "vitest");
    const handler = await remixHandler();
    const response = await handler(new Request(new URL(pathname, BASE), { ...init, headers, redirect: "manual" }), {
      requestId: "test-request",
      cspNonce: "",
      clientIp: this.ip,
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(";");
      const [name, value] = pair.split("=");
      const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === "") this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
    return response;
  }

  get(pathname: string, headers: Record<string, string> = {}) {
    return this.request(pathname, { headers });
  }

  post(pathname: string, fields: Record<string, string>) {
    return this.request(pathname, {
      method: "POST",
      body: new URLSearchParams(fields),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
  }
}

export function location(response: Response): string | null {
  const value = response.headers.get("Location");
  return value ? value.replace(BASE, "") : null;
}
