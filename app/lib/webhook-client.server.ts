import http from "node:http";
import https from "node:https";

/**
 * POSTs to a webhook over kept-alive connections and reports only the status: for dispatches, where the answer's
 * body does not matter and the call is on the queue's hot path. node:http costs a third of what fetch does per
 * request here (`npm run bench`, queue section), and no redirect is followed (a 3xx is an answer like any other).
 */
export interface WebhookAnswer {
  status: number;
  statusText: string;
}

const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};

export class WebhookRequestError extends Error {
  constructor(
    message: string,
    /** The system's code for why the connection failed (ECONNREFUSED, ENOTFOUND…), when there is one. */
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "WebhookRequestError";
  }
}

export function postWebhook(url: URL, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<WebhookAnswer> {
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: "POST",
        agent: agents[url.protocol as "http:" | "https:"],
        headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)) },
        signal,
      },
      (response) => {
        // Drained so the connection goes back to the pool; its content is not read.
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? "" }));
        response.on("error", (error: NodeJS.ErrnoException) => reject(new WebhookRequestError(error.message, error.code)));
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) => reject(new WebhookRequestError(error.message, error.code)));
    request.end(body);
  });
}
