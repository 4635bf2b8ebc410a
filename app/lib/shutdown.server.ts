import type { Server, ServerResponse } from "node:http";

export interface GracefulServer {
  /**
   * Stops accepting connections and resolves once in-flight requests have finished. Idle keep-alive
   * connections close at once; responses not yet started are sent with `Connection: close`. After
   * `timeoutMs` whatever is left is cut, so shutdown always ends.
   */
  close(timeoutMs: number): Promise<void>;
}

/** Call right after creating the server so every response is tracked. */
export function makeGraceful(server: Server): GracefulServer {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  server.on("request", (_req, res: ServerResponse) => {
    if (closing && !res.headersSent) res.setHeader("Connection", "close");
    inFlight.add(res);
    res.on("close", () => inFlight.delete(res));
  });

  return {
    close(timeoutMs) {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
        deadline.unref();
        server.close((error) => {
          clearTimeout(deadline);
          if (error && (error as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING") reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
