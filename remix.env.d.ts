/// <reference types="@remix-run/dev" />
/// <reference types="@remix-run/node" />

import "@remix-run/node";

declare module "@remix-run/node" {
  interface AppLoadContext {
    requestId: string;
    cspNonce: string;
    /** The client's address as express sees it (honouring X-Forwarded-For only behind a trusted proxy). */
    clientIp: string | null;
  }
}
