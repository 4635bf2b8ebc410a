-- Product events, the audit trail, and receipts that make incoming webhooks idempotent.

create table user_events (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid references organizations (id) on delete cascade,
  user_id uuid references users (id) on delete set null,
  event_type text not null check (event_type ~ '^[a-z][a-z0-9_]{1,63}$'),
  event_data jsonb not null default '{}' check (jsonb_typeof(event_data) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index user_events_organization_idx on user_events (organization_id, created_at desc);
create index user_events_type_idx on user_events (event_type, created_at desc);

create table audit_log (
  id uuid primary key default gen_random_uuid(),
  -- Null for events outside any organization, such as a failed sign-in for an unknown email.
  organization_id uuid references organizations (id) on delete cascade,
  -- The trail outlives the person: the actor's id is cleared, their label stays.
  actor_user_id uuid references users (id) on delete set null,
  actor_label text not null default '' check (char_length(actor_label) <= 320),
  action text not null check (action ~ '^[a-z][a-z0-9_.]{1,99}$'),
  target_type text check (char_length(target_type) <= 64),
  target_id text check (char_length(target_id) <= 200),
  before jsonb,
  after jsonb,
  ip inet,
  user_agent text check (char_length(user_agent) <= 1000),
  request_id text check (char_length(request_id) <= 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index audit_log_organization_idx on audit_log (organization_id, created_at desc);
create index audit_log_target_idx on audit_log (target_type, target_id);

create table webhook_receipts (
  id uuid primary key default gen_random_uuid(),
  source text not null check (source in ('clerk', 'n8n', 'resend')),
  webhook_id text not null check (char_length(webhook_id) between 1 and 200),
  organization_id uuid references organizations (id) on delete cascade,
  event_type text not null default '' check (char_length(event_type) <= 200),
  -- The first response, replayed to a sender that retries.
  response jsonb,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint webhook_receipts_source_id_key unique (source, webhook_id)
);
create index webhook_receipts_received_idx on webhook_receipts (received_at);

create trigger user_events_updated_at before update on user_events for each row execute function set_updated_at();
create trigger audit_log_updated_at before update on audit_log for each row execute function set_updated_at();
create trigger webhook_receipts_updated_at before update on webhook_receipts for each row execute function set_updated_at();

alter table user_events enable row level security;
alter table audit_log enable row level security;
alter table webhook_receipts enable row level security;
