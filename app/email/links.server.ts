import crypto from "node:crypto";
import { z } from "zod";
import { absoluteUrl } from "~/lib/app-url.server";
import { getConfig } from "~/lib/config.server";
import type { Queryable } from "~/lib/db.server";
import { getOrCreateAppSecret } from "~/models/app-secrets.server";

/**
 * Signed links in emails. A token is `<base64url JSON claims>.<base64url HMAC-SHA256>`; the HMAC covers the
 * purpose and the claims, so an unsubscribe token cannot be replayed as a feedback token, and changing any id
 * (another subscriber, project or episode) breaks the signature. Nothing is stored: the sender signs links when
 * it renders, and the routes check them without a lookup table.
 *
 * The key is EMAIL_LINK_SECRET when set, otherwise a secret the app keeps in `app_secrets`, shared by every
 * process, so links in mail already sent keep working after a restart.
 */

const SECRET_NAME = "email_links";

export type LinkPurpose = "unsubscribe" | "feedback" | "episode";

const uuid = z.uuid();

const claimSchemas = {
  /** One subscriber of one project may leave that project's list. */
  unsubscribe: z.strictObject({ o: uuid, p: uuid, s: uuid }),
  /** One subscriber's rating of one episode. */
  feedback: z.strictObject({ o: uuid, e: uuid, s: uuid, r: z.number().int().min(1).max(5) }),
  /** A subscriber's "read on the web" link: lets the page record that this reader opened it. */
  episode: z.strictObject({ o: uuid, e: uuid, s: uuid }),
} as const;

export type LinkClaims = { [P in LinkPurpose]: z.infer<(typeof claimSchemas)[P]> };

export interface UnsubscribeLink {
  organizationId: string;
  projectId: string;
  subscriberId: string;
}
export interface FeedbackLink {
  organizationId: string;
  episodeId: string;
  subscriberId: string;
  rating: number;
}
export interface EpisodeLink {
  organizationId: string;
  episodeId: string;
  subscriberId: string;
}

/** Signs and checks link tokens with one key. */
export class LinkSigner {
  readonly #key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error("The email link secret must be at least 32 characters.");
    this.#key = Buffer.from(secret, "utf8");
  }

  #mac(purpose: LinkPurpose, body: string): string {
    return crypto.createHmac("sha256", this.#key).update(`many-futures:${purpose}:${body}`).digest("base64url");
  }

  sign<P extends LinkPurpose>(purpose: P, claims: LinkClaims[P]): string {
    const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return `${body}.${this.#mac(purpose, body)}`;
  }

  /** The claims, or undefined for a token that was not signed by this key for this purpose. */
  verify<P extends LinkPurpose>(purpose: P, token: string): LinkClaims[P] | undefined {
    if (token.length > 1000) return undefined;
    const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return undefined;
    const [, body, mac] = match as unknown as [string, string, string];
    const expected = Buffer.from(this.#mac(purpose, body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return undefined;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    const parsed = claimSchemas[purpose].safeParse(claims);
    return parsed.success ? (parsed.data as LinkClaims[P]) : undefined;
  }

  unsubscribeToken(link: UnsubscribeLink): string {
    return this.sign("unsubscribe", { o: link.organizationId, p: link.projectId, s: link.subscriberId });
  }

  feedbackToken(link: FeedbackLink): string {
    return this.sign("feedback", { o: link.organizationId, e: link.episodeId, s: link.subscriberId, r: link.rating });
  }

  episodeToken(link: EpisodeLink): string {
    return this.sign("episode", { o: link.organizationId, e: link.episodeId, s: link.subscriberId });
  }

  readUnsubscribeToken(token: string): UnsubscribeLink | undefined {
    const claims = this.verify("unsubscribe", token);
    return claims && { organizationId: claims.o, projectId: claims.p, subscriberId: claims.s };
  }

  readFeedbackToken(token: string): FeedbackLink | undefined {
    const claims = this.verify("feedback", token);
    return claims && { organizationId: claims.o, episodeId: claims.e, subscriberId: claims.s, rating: claims.r };
  }

  readEpisodeToken(token: string): EpisodeLink | undefined {
    const claims = this.verify("episode", token);
    return claims && { organizationId: claims.o, episodeId: claims.e, subscriberId: claims.s };
  }

  unsubscribeUrl(link: UnsubscribeLink): string {
    return absoluteUrl(`/unsubscribe/${this.unsubscribeToken(link)}`);
  }

  feedbackUrl(link: FeedbackLink): string {
    return absoluteUrl(`/feedback/${this.feedbackToken(link)}`);
  }

  /** The episode's web page; with a subscriber, carries their token so opening it is recorded. */
  episodeUrl(link: { episodeId: string; organizationId?: string; subscriberId?: string }): string {
    const path = `/episodes/${link.episodeId}`;
    if (!link.subscriberId || !link.organizationId) return absoluteUrl(path);
    const token = this.episodeToken({ organizationId: link.organizationId, episodeId: link.episodeId, subscriberId: link.subscriberId });
    return absoluteUrl(`${path}?reader=${token}`);
  }
}

const cache = globalThis as typeof globalThis & { __manyFuturesLinkSigner?: Promise<LinkSigner> };

/** The process's signer: EMAIL_LINK_SECRET, or the app's stored secret (made on first use). */
export function getLinkSigner(sql: Queryable): Promise<LinkSigner> {
  const configured = getConfig().EMAIL_LINK_SECRET;
  if (configured) return Promise.resolve(new LinkSigner(configured));
  cache.__manyFuturesLinkSigner ??= getOrCreateAppSecret(sql, SECRET_NAME).then(
    (secret) => new LinkSigner(secret),
    (error) => {
      cache.__manyFuturesLinkSigner = undefined;
      throw error;
    },
  );
  return cache.__manyFuturesLinkSigner;
}

/** Forgets the cached signer (tests that switch databases). */
export function resetLinkSigner(): void {
  cache.__manyFuturesLinkSigner = undefined;
}
