import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../app/lib/db.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

let database: TestDatabase;
let db: Db;
const ids = {
  orgA: crypto.randomUUID(),
  orgB: crypto.randomUUID(),
  user: crypto.randomUUID(),
  project: crypto.randomUUID(),
  episode: crypto.randomUUID(),
  subscriber: crypto.randomUUID(),
};
const unique = () => crypto.randomBytes(4).toString("hex");

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await db`insert into organizations (id, name) values (${ids.orgA}, 'Org A'), (${ids.orgB}, 'Org B')`;
  await db`insert into users (id, email, name, password_hash) values (${ids.user}, 'ada@example.com', 'Ada', 'hash')`;
  await db`insert into projects (id, organization_id, title) values (${ids.project}, ${ids.orgA}, 'Energy futures')`;
  await db`
    insert into episodes (id, organization_id, project_id, scheduled_for)
    values (${ids.episode}, ${ids.orgA}, ${ids.project}, '2026-12-07T07:00:00Z')`;
  await db`
    insert into subscribers (id, organization_id, project_id, email)
    values (${ids.subscriber}, ${ids.orgA}, ${ids.project}, 'reader@example.com')`;
});
afterAll(() => database.drop());

const CHECK = "23514";
const UNIQUE = "23505";
const FOREIGN_KEY = "23503";
const NOT_NULL = "23502";

interface Rule {
  rule: string;
  code: string;
  constraint?: string;
  attempt: (db: Db) => Promise<unknown>;
}

const rules: Rule[] = [
  // organizations
  { rule: "an organization needs a name", code: CHECK, constraint: "organizations_name_check",
    attempt: (db) => db`insert into organizations (name) values ('  ')` },
  { rule: "a daily cost limit is never negative", code: CHECK, constraint: "organizations_daily_cost_limit_gbp_micros_check",
    attempt: (db) => db`insert into organizations (name, daily_cost_limit_gbp_micros) values ('X', -1)` },
  // users
  { rule: "an email looks like an email", code: CHECK, constraint: "users_email_check",
    attempt: (db) => db`insert into users (email, password_hash) values ('not-an-email', 'h')` },
  { rule: "emails are stored lower-case", code: CHECK, constraint: "users_email_check",
    attempt: (db) => db`insert into users (email, password_hash) values ('Ada@Example.com', 'h')` },
  { rule: "one account per email", code: UNIQUE, constraint: "users_email_key",
    attempt: (db) => db`insert into users (email, password_hash) values ('ada@example.com', 'h')` },
  { rule: "a user has a password or a Clerk id", code: CHECK, constraint: "users_has_identity",
    attempt: (db) => db`insert into users (email) values (${`${unique()}@example.com`})` },
  { rule: "one user per Clerk id", code: UNIQUE, constraint: "users_clerk_user_id_key",
    attempt: async (db) => {
      await db`insert into users (clerk_user_id) values ('user_dup')`;
      await db`insert into users (clerk_user_id) values ('user_dup')`;
    } },
  // memberships
  { rule: "a role is owner, admin or member", code: CHECK, constraint: "memberships_role_check",
    attempt: (db) => db`insert into memberships (organization_id, user_id, role) values (${ids.orgB}, ${ids.user}, 'superuser')` },
  { rule: "one membership per person per organization", code: UNIQUE, constraint: "memberships_organization_user_key",
    attempt: async (db) => {
      await db`insert into memberships (organization_id, user_id, role) values (${ids.orgA}, ${ids.user}, 'owner')`;
      await db`insert into memberships (organization_id, user_id, role) values (${ids.orgA}, ${ids.user}, 'member')`;
    } },
  { rule: "a membership needs a real organization", code: FOREIGN_KEY, constraint: "memberships_organization_id_fkey",
    attempt: (db) => db`insert into memberships (organization_id, user_id, role) values (${crypto.randomUUID()}, ${ids.user}, 'member')` },
  // invitations
  { rule: "one pending invitation per email per organization", code: UNIQUE, constraint: "invitations_one_pending_per_email",
    attempt: async (db) => {
      for (let i = 0; i < 2; i++) {
        await db`
          insert into invitations (organization_id, email, role, token_hash, expires_at)
          values (${ids.orgA}, 'invitee@example.com', 'member', ${unique()}, now() + interval '7 days')`;
      }
    } },
  { rule: "an accepted invitation records when", code: CHECK, constraint: "invitations_accepted_has_time",
    attempt: (db) => db`
      insert into invitations (organization_id, email, role, token_hash, expires_at, status)
      values (${ids.orgA}, 'late@example.com', 'member', ${unique()}, now() + interval '1 day', 'accepted')` },
  // sessions
  { rule: "a session expires after it starts", code: CHECK, constraint: "sessions_expiry_after_creation",
    attempt: (db) => db`insert into sessions (token_hash, user_id, expires_at) values (${unique()}, ${ids.user}, now() - interval '1 second')` },
  { rule: "session tokens are unique", code: UNIQUE, constraint: "sessions_token_hash_key",
    attempt: async (db) => {
      await db`insert into sessions (token_hash, user_id, expires_at) values ('same', ${ids.user}, now() + interval '1 day')`;
      await db`insert into sessions (token_hash, user_id, expires_at) values ('same', ${ids.user}, now() + interval '1 day')`;
    } },
  // projects
  { rule: "a project needs a title", code: CHECK, constraint: "projects_title_check",
    attempt: (db) => db`insert into projects (organization_id, title) values (${ids.orgA}, '')` },
  { rule: "a project status is ACTIVE or ARCHIVED", code: CHECK, constraint: "projects_status_check",
    attempt: (db) => db`insert into projects (organization_id, title, status) values (${ids.orgA}, 'T', 'DELETED')` },
  { rule: "a cadence is weekly, custom, daily or paused", code: CHECK, constraint: "projects_cadence_type_check",
    attempt: (db) => db`insert into projects (organization_id, title, cadence_type) values (${ids.orgA}, 'T', 'hourly')` },
  { rule: "cadence days are ISO weekdays 1 to 7", code: CHECK, constraint: "projects_cadence_days_valid",
    attempt: (db) => db`insert into projects (organization_id, title, cadence_type, cadence_days) values (${ids.orgA}, 'T', 'custom', '{2,8}')` },
  { rule: "weekly means exactly one day", code: CHECK, constraint: "projects_cadence_days_valid",
    attempt: (db) => db`insert into projects (organization_id, title, cadence_type, cadence_days) values (${ids.orgA}, 'T', 'weekly', '{1,3}')` },
  { rule: "custom days need at least one day", code: CHECK, constraint: "projects_cadence_days_valid",
    attempt: (db) => db`insert into projects (organization_id, title, cadence_type, cadence_days) values (${ids.orgA}, 'T', 'custom', '{}')` },
  { rule: "the delivery hour is 0 to 23", code: CHECK, constraint: "projects_delivery_hour_check",
    attempt: (db) => db`insert into projects (organization_id, title, delivery_hour) values (${ids.orgA}, 'T', 24)` },
  { rule: "the delivery minute is 0 to 59", code: CHECK, constraint: "projects_delivery_minute_check",
    attempt: (db) => db`insert into projects (organization_id, title, delivery_minute) values (${ids.orgA}, 'T', 60)` },
  { rule: "an archived project records when", code: CHECK, constraint: "projects_archived_has_time",
    attempt: (db) => db`insert into projects (organization_id, title, status) values (${ids.orgA}, 'T', 'ARCHIVED')` },
  { rule: "a project belongs to a real organization", code: FOREIGN_KEY, constraint: "projects_organization_id_fkey",
    attempt: (db) => db`insert into projects (organization_id, title) values (${crypto.randomUUID()}, 'T')` },
  // conversations and notes
  { rule: "a completed conversation names its project", code: CHECK, constraint: "project_conversations_completed_has_project",
    attempt: (db) => db`insert into project_conversations (organization_id, user_id, status) values (${ids.orgA}, ${ids.user}, 'completed')` },
  { rule: "a planning note has a body", code: CHECK, constraint: "planning_notes_body_check",
    attempt: (db) => db`insert into planning_notes (organization_id, project_id, body) values (${ids.orgA}, ${ids.project}, ' ')` },
  { rule: "a planning note's organization is its project's", code: FOREIGN_KEY, constraint: "planning_notes_project_id_organization_id_fkey",
    attempt: (db) => db`insert into planning_notes (organization_id, project_id, body) values (${ids.orgB}, ${ids.project}, 'x')` },
  // episodes
  { rule: "an episode status is one of the five", code: CHECK, constraint: "episodes_status_check",
    attempt: (db) => db`insert into episodes (organization_id, project_id, scheduled_for, status) values (${ids.orgA}, ${ids.project}, now(), 'DONE')` },
  { rule: "one episode per project per scheduled slot", code: UNIQUE, constraint: "episodes_project_slot_key",
    attempt: (db) => db`insert into episodes (organization_id, project_id, scheduled_for) values (${ids.orgA}, ${ids.project}, '2026-12-07T07:00:00Z')` },
  { rule: "a published episode has a title, content and a time", code: CHECK, constraint: "episodes_published_complete",
    attempt: (db) => db`insert into episodes (organization_id, project_id, scheduled_for, status) values (${ids.orgA}, ${ids.project}, now(), 'PUBLISHED')` },
  { rule: "an episode's organization is its project's", code: FOREIGN_KEY, constraint: "episodes_project_id_organization_id_fkey",
    attempt: (db) => db`insert into episodes (organization_id, project_id, scheduled_for) values (${ids.orgB}, ${ids.project}, now())` },
  { rule: "episode sources are a JSON array", code: CHECK, constraint: "episodes_sources_check",
    attempt: (db) => db`insert into episodes (organization_id, project_id, scheduled_for, sources) values (${ids.orgA}, ${ids.project}, now(), '{"a":1}')` },
  { rule: "generation attempts are never negative", code: CHECK, constraint: "episodes_generation_attempts_check",
    attempt: (db) => db`insert into episodes (organization_id, project_id, scheduled_for, generation_attempts) values (${ids.orgA}, ${ids.project}, now(), -1)` },
  { rule: "a generation stage is research, writing or review", code: CHECK, constraint: "episodes_generation_stage_check",
    attempt: (db) => db`insert into episodes (organization_id, project_id, scheduled_for, generation_stage) values (${ids.orgA}, ${ids.project}, now(), 'dreaming')` },
  // queue
  { rule: "a queue status is pending, processing, completed or failed", code: CHECK, constraint: "episode_schedule_queue_status_check",
    attempt: (db) => db`insert into episode_schedule_queue (organization_id, episode_id, status) values (${ids.orgA}, ${ids.episode}, 'waiting')` },
  { rule: "one queue row per episode", code: UNIQUE, constraint: "episode_schedule_queue_episode_id_key",
    attempt: async (db) => {
      await db`insert into episode_schedule_queue (organization_id, episode_id) values (${ids.orgA}, ${ids.episode})`;
      await db`insert into episode_schedule_queue (organization_id, episode_id) values (${ids.orgA}, ${ids.episode})`;
    } },
  { rule: "a processing job records who holds it", code: CHECK, constraint: "episode_schedule_queue_processing_leased",
    attempt: async (db) => {
      const [episode] = await db`insert into episodes (organization_id, project_id, scheduled_for) values (${ids.orgA}, ${ids.project}, now()) returning id`;
      await db`insert into episode_schedule_queue (organization_id, episode_id, status) values (${ids.orgA}, ${episode.id}, 'processing')`;
    } },
  { rule: "attempts never pass the maximum", code: CHECK, constraint: "episode_schedule_queue_attempts_bounded",
    attempt: async (db) => {
      const [episode] = await db`insert into episodes (organization_id, project_id, scheduled_for) values (${ids.orgA}, ${ids.project}, now() + interval '1 hour') returning id`;
      await db`insert into episode_schedule_queue (organization_id, episode_id, attempts, max_attempts) values (${ids.orgA}, ${episode.id}, 4, 3)`;
    } },
  // usage
  { rule: "token counts are never negative", code: CHECK, constraint: "token_usage_prompt_tokens_check",
    attempt: (db) => db`
      insert into token_usage (organization_id, call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros, usage_date)
      values (${ids.orgA}, ${unique()}, 'writer', 'm', -5, 0, 0, current_date)` },
  { rule: "an agent is research, writer, qa or futura", code: CHECK, constraint: "token_usage_agent_check",
    attempt: (db) => db`
      insert into token_usage (organization_id, call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros, usage_date)
      values (${ids.orgA}, ${unique()}, 'editor', 'm', 1, 1, 1, current_date)` },
  { rule: "a model call is reported once", code: UNIQUE, constraint: "token_usage_call_key",
    attempt: async (db) => {
      for (let i = 0; i < 2; i++) {
        await db`
          insert into token_usage (organization_id, call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros, usage_date)
          values (${ids.orgA}, 'call-1', 'writer', 'm', 1, 1, 1, current_date)`;
      }
    } },
  { rule: "one daily usage row per organization per day", code: UNIQUE, constraint: "token_usage_daily_pkey",
    attempt: async (db) => {
      await db`insert into token_usage_daily (organization_id, usage_date) values (${ids.orgA}, '2026-11-25')`;
      await db`insert into token_usage_daily (organization_id, usage_date) values (${ids.orgA}, '2026-11-25')`;
    } },
  { rule: "a day's cost is never negative", code: CHECK, constraint: "token_usage_daily_cost_gbp_micros_check",
    attempt: (db) => db`insert into token_usage_daily (organization_id, usage_date, cost_gbp_micros) values (${ids.orgB}, '2026-11-24', -1)` },
  // subscribers and the outbox
  { rule: "one subscriber per project per email", code: UNIQUE, constraint: "subscribers_project_email_key",
    attempt: (db) => db`insert into subscribers (organization_id, project_id, email) values (${ids.orgA}, ${ids.project}, 'reader@example.com')` },
  { rule: "a subscriber status is one of the five", code: CHECK, constraint: "subscribers_status_check",
    attempt: (db) => db`insert into subscribers (organization_id, project_id, email, status) values (${ids.orgA}, ${ids.project}, 'x@example.com', 'active')` },
  { rule: "a confirmed subscriber records when", code: CHECK, constraint: "subscribers_confirmed_has_time",
    attempt: (db) => db`insert into subscribers (organization_id, project_id, email, status) values (${ids.orgA}, ${ids.project}, 'y@example.com', 'confirmed')` },
  { rule: "an email kind is one the app sends", code: CHECK, constraint: "email_deliveries_kind_check",
    attempt: (db) => db`
      insert into email_deliveries (organization_id, kind, to_email, subject, idempotency_key)
      values (${ids.orgA}, 'newsletter', 'a@example.com', 'Hi', ${unique()})` },
  { rule: "an episode is mailed once per subscriber", code: UNIQUE, constraint: "email_deliveries_episode_subscriber_key",
    attempt: async (db) => {
      for (let i = 0; i < 2; i++) {
        await db`
          insert into email_deliveries (organization_id, kind, episode_id, subscriber_id, to_email, subject, idempotency_key)
          values (${ids.orgA}, 'episode', ${ids.episode}, ${ids.subscriber}, 'reader@example.com', 'Episode', ${unique()})`;
      }
    } },
  { rule: "idempotency keys are unique", code: UNIQUE, constraint: "email_deliveries_idempotency_key_key",
    attempt: async (db) => {
      for (let i = 0; i < 2; i++) {
        await db`
          insert into email_deliveries (organization_id, kind, to_email, subject, idempotency_key)
          values (${ids.orgA}, 'invitation', 'a@example.com', 'Join', 'same-key')`;
      }
    } },
  { rule: "a sent email records when", code: CHECK, constraint: "email_deliveries_sent_has_time",
    attempt: (db) => db`
      insert into email_deliveries (organization_id, kind, to_email, subject, idempotency_key, status)
      values (${ids.orgA}, 'invitation', 'a@example.com', 'Join', ${unique()}, 'sent')` },
  { rule: "an episode email names its episode and subscriber", code: CHECK, constraint: "email_deliveries_episode_has_subscriber",
    attempt: (db) => db`
      insert into email_deliveries (organization_id, kind, to_email, subject, idempotency_key)
      values (${ids.orgA}, 'episode', 'a@example.com', 'Episode', ${unique()})` },
  // composite tenant keys (sql/0007): a child's organization is its parent's
  { rule: "a queue row's organization is its episode's", code: FOREIGN_KEY, constraint: "episode_schedule_queue_episode_organization_fkey",
    attempt: async (db) => {
      const [episode] = await db`insert into episodes (organization_id, project_id, scheduled_for) values (${ids.orgA}, ${ids.project}, now() + interval '2 hours') returning id`;
      await db`insert into episode_schedule_queue (organization_id, episode_id) values (${ids.orgB}, ${episode.id})`;
    } },
  { rule: "usage is booked to its episode's organization", code: FOREIGN_KEY, constraint: "token_usage_episode_organization_fkey",
    attempt: (db) => db`
      insert into token_usage (organization_id, episode_id, call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros, usage_date)
      values (${ids.orgB}, ${ids.episode}, ${unique()}, 'writer', 'm', 1, 1, 1, current_date)` },
  { rule: "an email's organization is its episode's", code: FOREIGN_KEY, constraint: "email_deliveries_episode_organization_fkey",
    attempt: (db) => db`
      insert into email_deliveries (organization_id, kind, episode_id, to_email, subject, idempotency_key)
      values (${ids.orgB}, 'generation_failed', ${ids.episode}, 'a@example.com', 'Failed', ${unique()})` },
  { rule: "an email's organization is its subscriber's", code: FOREIGN_KEY, constraint: "email_deliveries_subscriber_organization_fkey",
    attempt: (db) => db`
      insert into email_deliveries (organization_id, kind, subscriber_id, to_email, subject, idempotency_key)
      values (${ids.orgB}, 'subscription_confirmation', ${ids.subscriber}, 'reader@example.com', 'Confirm', ${unique()})` },
  { rule: "a conversation's organization is its project's", code: FOREIGN_KEY, constraint: "project_conversations_project_organization_fkey",
    attempt: (db) => db`
      insert into project_conversations (organization_id, user_id, status, project_id) values (${ids.orgB}, ${ids.user}, 'completed', ${ids.project})` },
  // sign-in throttling
  { rule: "a throttling key is a SHA-256 hash", code: CHECK, constraint: "sign_in_attempts_key_hash_check",
    attempt: (db) => db`insert into sign_in_attempts (scope, key_hash, window_start) values ('email', 'ada@example.com', now())` },
  { rule: "a throttling scope is address, email_address or email", code: CHECK, constraint: "sign_in_attempts_scope_check",
    attempt: (db) => db`insert into sign_in_attempts (scope, key_hash, window_start) values ('user', ${"a".repeat(64)}, now())` },
  // events, audit and receipts
  { rule: "an event type is snake_case", code: CHECK, constraint: "user_events_event_type_check",
    attempt: (db) => db`insert into user_events (organization_id, event_type) values (${ids.orgA}, 'Project Created!')` },
  { rule: "event data is a JSON object", code: CHECK, constraint: "user_events_event_data_check",
    attempt: (db) => db`insert into user_events (organization_id, event_type, event_data) values (${ids.orgA}, 'project_created', '[1]')` },
  { rule: "an audit action is dotted lower-case", code: CHECK, constraint: "audit_log_action_check",
    attempt: (db) => db`insert into audit_log (organization_id, action) values (${ids.orgA}, 'DROP EVERYTHING')` },
  { rule: "an audit row needs an action", code: NOT_NULL,
    attempt: (db) => db`insert into audit_log (organization_id) values (${ids.orgA})` },
  { rule: "one receipt per webhook id per source", code: UNIQUE, constraint: "webhook_receipts_source_id_key",
    attempt: async (db) => {
      await db`insert into webhook_receipts (source, webhook_id) values ('clerk', 'msg_1')`;
      await db`insert into webhook_receipts (source, webhook_id) values ('clerk', 'msg_1')`;
    } },
  { rule: "a webhook source is one we accept", code: CHECK, constraint: "webhook_receipts_source_check",
    attempt: (db) => db`insert into webhook_receipts (source, webhook_id) values ('stripe', 'evt_1')` },
];

describe("schema constraints", () => {
  it.each(rules.map((r) => [r.rule, r] as const))("%s", async (_rule, { attempt, code, constraint }) => {
    const error = await attempt(db).then(
      () => undefined,
      (e: unknown) => e as { code: string; constraint_name?: string },
    );
    expect(error, "the bad row was accepted").toBeDefined();
    expect(error).toMatchObject({ code, ...(constraint ? { constraint_name: constraint } : {}) });
  });

  it("accepts the rows those rules allow, and keeps the money exact", async () => {
    const [row] = await db`
      insert into token_usage (organization_id, episode_id, call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros, usage_date)
      values (${ids.orgA}, ${ids.episode}, ${unique()}, 'research', 'gpt', 1200, 800, 9007199254740, current_date)
      returning cost_gbp_micros`;
    expect(row.costGbpMicros).toBe(9007199254740);
  });

  it("deletes on purpose: an organization takes its projects and episodes; the audit trail outlives its actor", async () => {
    const [org] = await db`insert into organizations (name) values ('Short-lived') returning id`;
    const [user] = await db`insert into users (email, password_hash) values (${`${unique()}@example.com`}, 'h') returning id`;
    const [project] = await db`insert into projects (organization_id, title) values (${org.id}, 'P') returning id`;
    await db`insert into episodes (organization_id, project_id, scheduled_for) values (${org.id}, ${project.id}, now())`;
    const [audit] = await db`
      insert into audit_log (organization_id, actor_user_id, actor_label, action)
      values (${ids.orgA}, ${user.id}, 'gone@example.com', 'project.created') returning id`;

    await db`delete from users where id = ${user.id}`;
    const [kept] = await db`select actor_user_id, actor_label from audit_log where id = ${audit.id}`;
    expect(kept).toEqual({ actorUserId: null, actorLabel: "gone@example.com" });

    await db`delete from organizations where id = ${org.id}`;
    const [{ projects, episodes }] = await db`
      select (select count(*)::int from projects where organization_id = ${org.id}) as projects,
             (select count(*)::int from episodes where organization_id = ${org.id}) as episodes`;
    expect({ projects, episodes }).toEqual({ projects: 0, episodes: 0 });
  });

  it("deleting an episode keeps its usage on the books, in its organization, and takes its queue row and emails", async () => {
    const [episode] = await db`
      insert into episodes (organization_id, project_id, scheduled_for) values (${ids.orgA}, ${ids.project}, now() + interval '3 days') returning id`;
    const callId = unique();
    await db`
      insert into token_usage (organization_id, episode_id, call_id, agent, model, prompt_tokens, completion_tokens, cost_gbp_micros, usage_date)
      values (${ids.orgA}, ${episode.id}, ${callId}, 'writer', 'm', 10, 20, 30, current_date)`;
    await db`insert into episode_schedule_queue (organization_id, episode_id) values (${ids.orgA}, ${episode.id})`;
    await db`
      insert into email_deliveries (organization_id, kind, episode_id, subscriber_id, to_email, subject, idempotency_key)
      values (${ids.orgA}, 'episode', ${episode.id}, ${ids.subscriber}, 'reader@example.com', 'Episode', ${unique()})`;

    await db`delete from episodes where id = ${episode.id}`;
    const [usage] = await db`select organization_id, episode_id, cost_gbp_micros from token_usage where call_id = ${callId}`;
    expect(usage).toEqual({ organizationId: ids.orgA, episodeId: null, costGbpMicros: 30 });
    expect(await db`select 1 from episode_schedule_queue where episode_id = ${episode.id}`).toHaveLength(0);
    expect(await db`select 1 from email_deliveries where episode_id = ${episode.id}`).toHaveLength(0);
  });

  it("deleting a project made through the conversation takes the completed conversation with it", async () => {
    const [project] = await db`insert into projects (organization_id, title) values (${ids.orgA}, 'From Futura') returning id`;
    const [conversation] = await db`
      insert into project_conversations (organization_id, user_id, status, project_id)
      values (${ids.orgA}, ${ids.user}, 'completed', ${project.id}) returning id`;
    await db`delete from projects where id = ${project.id}`;
    expect(await db`select 1 from project_conversations where id = ${conversation.id}`).toHaveLength(0);
  });

  it("keeps updated_at current on every update", async () => {
    const [before] = await db`select updated_at from projects where id = ${ids.project}`;
    await db`select pg_sleep(0.01)`;
    const [after] = await db`update projects set title = 'Energy futures 2' where id = ${ids.project} returning updated_at`;
    expect(after.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
  });
});

describe("row level security", () => {
  it("is enabled on every table, with no policies", async () => {
    const tables = await db`
      select c.relname as name, c.relrowsecurity as enabled
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r'
      order by c.relname`;
    expect(tables.length).toBeGreaterThanOrEqual(17);
    expect(tables.filter((t) => !t.enabled).map((t) => t.name)).toEqual([]);
    const policies = await db`select policyname from pg_policies where schemaname = 'public'`;
    expect(policies).toEqual([]);
  });
});
