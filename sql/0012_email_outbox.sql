-- The email outbox the sender works through: every kind of email, what it needs to render, the lease a sender holds
-- while it sends, what the provider said; addresses that must not be mailed again; feedback from readers.

alter table email_deliveries drop constraint email_deliveries_kind_check;
alter table email_deliveries add constraint email_deliveries_kind_check check (kind in (
  'episode', 'subscription_confirmation', 'invitation', 'password_reset', 'generation_failed', 'budget_alert',
  'email_verification', 'sign_in_link'
));

-- The template's data, so the email can be rendered when it is sent. Episodes keep it empty: their content is
-- read from the episode and the subscriber at send time, not copied once per reader.
alter table email_deliveries add column payload jsonb not null default '{}' check (jsonb_typeof(payload) = 'object');
alter table email_deliveries add column project_id uuid;
alter table email_deliveries add constraint email_deliveries_project_organization_fkey
  foreign key (project_id, organization_id) references projects (id, organization_id) on delete cascade;
alter table email_deliveries add column user_id uuid references users (id) on delete cascade;
-- Rendered at send time; null until then.
alter table email_deliveries alter column subject drop not null;
-- A sender holds a delivery while it sends; a lease that runs out (the process died) lets another take it over,
-- and the idempotency key makes the provider ignore the repeat.
alter table email_deliveries add column locked_until timestamptz;
alter table email_deliveries add column locked_by text check (char_length(locked_by) <= 200);
-- Episode emails go to Resend 100 to a call. The batch is fixed when first claimed and resent whole, under one
-- Idempotency-Key, so a batch retried after a crash is the same request and Resend ignores the repeat.
alter table email_deliveries add column batch_id uuid;
alter table email_deliveries add column provider text check (provider in ('resend', 'smtp', 'outbox'));
-- The headers the message went out with, for the outbox page and for support.
alter table email_deliveries add column headers jsonb not null default '{}' check (jsonb_typeof(headers) = 'object');
-- What the provider reported afterwards through its webhooks.
alter table email_deliveries add column provider_status text check (provider_status in ('delivered', 'delayed', 'bounced', 'complained', 'failed'));
alter table email_deliveries add column provider_status_at timestamptz;
alter table email_deliveries add constraint email_deliveries_sending_is_locked check (status <> 'sending' or locked_until is not null);

create index email_deliveries_lease_idx on email_deliveries (locked_until) where status = 'sending';
create index email_deliveries_batch_idx on email_deliveries (batch_id) where batch_id is not null;
create index email_deliveries_episode_idx on email_deliveries (organization_id, episode_id) where episode_id is not null;

-- Addresses that bounced hard or complained: never mailed again by this organization.
create table email_suppressions (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  email text not null check (email = lower(email) and char_length(email) between 3 and 320),
  reason text not null check (reason in ('bounced', 'complained')),
  delivery_id uuid references email_deliveries (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint email_suppressions_organization_email_key unique (organization_id, email)
);
create trigger email_suppressions_updated_at before update on email_suppressions for each row execute function set_updated_at();
alter table email_suppressions enable row level security;

-- A reader's rating of an episode: one per subscriber per episode, changed by rating again.
create table episode_feedback (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  episode_id uuid not null,
  subscriber_id uuid not null,
  rating smallint not null check (rating between 1 and 5),
  comment text not null default '' check (char_length(comment) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (episode_id, organization_id) references episodes (id, organization_id) on delete cascade,
  foreign key (subscriber_id, organization_id) references subscribers (id, organization_id) on delete cascade,
  constraint episode_feedback_episode_subscriber_key unique (episode_id, subscriber_id)
);
create index episode_feedback_organization_idx on episode_feedback (organization_id, episode_id);
create trigger episode_feedback_updated_at before update on episode_feedback for each row execute function set_updated_at();
alter table episode_feedback enable row level security;

-- Secrets the app makes for itself when none is configured, shared by every process through the database: the key
-- that signs email links must outlive restarts, or every link already sent would break.
create table app_secrets (
  name text primary key check (name ~ '^[a-z][a-z0-9_]{1,63}$'),
  secret text not null check (char_length(secret) >= 32),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger app_secrets_updated_at before update on app_secrets for each row execute function set_updated_at();
alter table app_secrets enable row level security;
