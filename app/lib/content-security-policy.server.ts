import type { IncomingMessage, ServerResponse } from "node:http";
import { clerkFrontendApiHost } from "./config.server";

type Directive = string | ((req: IncomingMessage, res: ServerResponse) => string);
type CspDirectives = Record<string, Directive[] | null>;

const nonce: Directive = (_req, res) => `'nonce-${(res as ServerResponse & { locals: { cspNonce: string } }).locals.cspNonce}'`;

/**
 * The CSP directives added to helmet's defaults. Scripts run only with the per-request nonce (and what those
 * scripts load, through 'strict-dynamic'). In Clerk mode the policy also lets in what Clerk's UI needs, as
 * Clerk documents it (https://clerk.com/docs/guides/secure/best-practices/csp-headers), and nothing more: its
 * frontend API (scripts and calls), its image host, Cloudflare's bot-protection challenge (script and frame),
 * and workers from this origin or blob: URLs. Styles already allow 'unsafe-inline' in helmet's defaults.
 */
export function cspDirectives(options: { clerkPublishableKey?: string } = {}): CspDirectives {
  const directives: CspDirectives = {
    "script-src": ["'strict-dynamic'", nonce],
    "connect-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "form-action": ["'self'"],
    // Plain-HTTP local runs would break if the browser upgraded every request; HSTS covers production.
    "upgrade-insecure-requests": null,
  };
  const clerkHost = options.clerkPublishableKey ? clerkFrontendApiHost(options.clerkPublishableKey) : undefined;
  if (options.clerkPublishableKey && !clerkHost) throw new Error("CLERK_PUBLISHABLE_KEY does not name a Clerk frontend API host");
  if (clerkHost) {
    const frontendApi = `https://${clerkHost}`;
    const challenges = "https://challenges.cloudflare.com";
    directives["script-src"] = [...directives["script-src"]!, frontendApi, challenges];
    directives["connect-src"] = [...directives["connect-src"]!, frontendApi];
    directives["img-src"] = [...directives["img-src"]!, "https://img.clerk.com"];
    directives["frame-src"] = ["'self'", challenges];
    directives["worker-src"] = ["'self'", "blob:"];
  }
  return directives;
}
