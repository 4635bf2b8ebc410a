import type { Db } from "~/lib/db.server";
import type { RequestMeta } from "~/lib/http.server";
import { findFeedbackContext, isSubscriberOfEpisode, recordEpisodeOpened, submitFeedback, type FeedbackContext, type FeedbackResult } from "~/models/episode-feedback.server";
import { findListMembership, unsubscribe, type ListMembership, type UnsubscribeResult } from "~/models/unsubscribes.server";
import { getLinkSigner } from "./links.server";

/**
 * What the links in an email do, for readers who are not signed in: the signed token is checked first, and
 * names exactly one subscriber (of one project, or of one episode's project). A forged, altered or mismatched
 * token finds nothing.
 */

export async function readUnsubscribeLink(db: Db, token: string): Promise<ListMembership | undefined> {
  const link = (await getLinkSigner(db)).readUnsubscribeToken(token);
  return link && findListMembership(db, link);
}

export async function unsubscribeByLink(db: Db, token: string, meta: RequestMeta, via: "one_click" | "page"): Promise<UnsubscribeResult> {
  const link = (await getLinkSigner(db)).readUnsubscribeToken(token);
  if (!link) return { ok: false, reason: "not_found" };
  return unsubscribe(db, link, meta, via);
}

export async function readFeedbackLink(db: Db, token: string): Promise<{ rating: number; context: FeedbackContext } | undefined> {
  const link = (await getLinkSigner(db)).readFeedbackToken(token);
  if (!link) return undefined;
  const context = await findFeedbackContext(db, link);
  return context && { rating: link.rating, context };
}

/** The rating comes from the form (the reader may change the one the link carried); the reader from the token. */
export async function submitFeedbackByLink(db: Db, token: string, input: { rating: number; comment: string }): Promise<FeedbackResult> {
  const link = (await getLinkSigner(db)).readFeedbackToken(token);
  if (!link) return { ok: false, reason: "not_found" };
  return submitFeedback(db, link, input);
}

/**
 * A "read on the web" link: the subscriber it names, when it was signed for this episode of this organization.
 * Records `episode_opened` for them.
 */
export async function openEpisodeAsReader(
  db: Db,
  token: string,
  episodeId: string,
): Promise<{ organizationId: string; subscriberId: string } | undefined> {
  const link = (await getLinkSigner(db)).readEpisodeToken(token);
  if (!link || link.episodeId !== episodeId) return undefined;
  if (!(await isSubscriberOfEpisode(db, { organizationId: link.organizationId, subscriberId: link.subscriberId, episodeId }))) return undefined;
  await recordEpisodeOpened(db, { organizationId: link.organizationId, episodeId, subscriberId: link.subscriberId });
  return { organizationId: link.organizationId, subscriberId: link.subscriberId };
}
