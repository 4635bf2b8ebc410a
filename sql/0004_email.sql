-- Subscribers of a project and the transactional outbox of emails to send.

create table subscribers (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  project_id uuid not null,
  email text not null check (email ~ '^[^@\s]+@[^@\s]+$' and email = lower(email) and char_length(email) <= 320),
  name text not null default '' check (char_length(name) <= 200),
  status text not null default 'pending' check (status in ('pending', 'confirmed', 'unsubscribed', 'bounced', 'complained')),
  confirm_token_hash text unique,
  unsubscribe_token_hash text unique,
  confirmed_at timestamptz,
  unsubscribed_at timestamptz,
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references projects (id, organization_id) on delete cascade,
  constraint subscribers_project_email_key unique (project_id, email),
  constraint subscribers_confirmed_has_time check (status <> 'confirmed' or confirmed_at is not null),
  constraint subscribers_unsubscribed_has_time check (status <> 'unsubscribed' or unsubscribed_at is not null)
);
create index subscribers_project_status_idx on subscribers (organization_id, project_id, status);

create table email_deliveries (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  kind text not null check (kind in ('episode', 'subscription_confirmation', 'invitation', 'password_reset', 'generation_failed')),
  episode_id uuid references episodes (id) on delete cascade,
  subscriber_id uuid references subscribers (id) on delete cascade,
  to_email text not null check (to_email ~ '^[^@\s]+@[^@\s]+$'),
  subject text not null check (char_length(subject) between 1 and 998),
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'cancelled')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  -- Sent as the provider's Idempotency-Key so a retried send never mails twice.
  idempotency_key text not null unique,
  provider_message_id text unique,
  last_error text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint email_deliveries_sent_has_time check ((status = 'sent') = (sent_at is not null)),
  constraint email_deliveries_episode_has_subscriber check (kind <> 'episode' or (episode_id is not null and subscriber_id is not null))
);
-- One copy of an episode per subscriber, however often delivery is retried.
create unique index email_deliveries_episode_subscriber_key on email_deliveries (episode_id, subscriber_id) where kind = 'episode';
create index email_deliveries_due_idx on email_deliveries (next_attempt_at) where status = 'pending';
create index email_deliveries_organization_idx on email_deliveries (organization_id, created_at desc);

create trigger subscribers_updated_at before update on subscribers for each row execute function set_updated_at();
create trigger email_deliveries_updated_at before update on email_deliveries for each row execute function set_updated_at();

alter table subscribers enable row level security;
alter table email_deliveries enable row level security;
