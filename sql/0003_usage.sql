-- Model usage: one ledger row per reported model call, and a per-organization daily roll-up
-- that the cost budget checks. Money is integer micro-units of GBP.

create table token_usage (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  -- Usage stays on the books even when its episode is deleted.
  episode_id uuid references episodes (id) on delete set null,
  -- The caller's id for the model call; reporting the same call twice is impossible.
  call_id text not null check (char_length(call_id) between 1 and 200),
  agent text not null check (agent in ('research', 'writer', 'qa', 'futura')),
  model text not null check (char_length(model) between 1 and 200),
  prompt_tokens integer not null check (prompt_tokens >= 0),
  completion_tokens integer not null check (completion_tokens >= 0),
  cost_gbp_micros bigint not null check (cost_gbp_micros >= 0),
  usage_date date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint token_usage_call_key unique (organization_id, call_id)
);
create index token_usage_organization_date_idx on token_usage (organization_id, usage_date);
create index token_usage_episode_idx on token_usage (episode_id) where episode_id is not null;

create table token_usage_daily (
  organization_id uuid not null references organizations (id) on delete cascade,
  usage_date date not null,
  prompt_tokens bigint not null default 0 check (prompt_tokens >= 0),
  completion_tokens bigint not null default 0 check (completion_tokens >= 0),
  cost_gbp_micros bigint not null default 0 check (cost_gbp_micros >= 0),
  -- Cost set aside for generations in flight, so the budget holds before the bill arrives.
  reserved_gbp_micros bigint not null default 0 check (reserved_gbp_micros >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, usage_date)
);

create trigger token_usage_updated_at before update on token_usage for each row execute function set_updated_at();
create trigger token_usage_daily_updated_at before update on token_usage_daily for each row execute function set_updated_at();

alter table token_usage enable row level security;
alter table token_usage_daily enable row level security;
