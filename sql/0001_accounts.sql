-- Accounts: organizations, people, who belongs where, invitations and sign-in sessions.
-- Every table gets created_at/updated_at; updated_at is kept by one trigger function.

create function set_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create table organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(btrim(name)) between 1 and 200),
  clerk_organization_id text unique,
  is_personal boolean not null default false,
  -- Money is integer micro-units of GBP (1 GBP = 1,000,000): exact, and fine enough for per-token prices.
  daily_cost_limit_gbp_micros bigint not null default 50000000 check (daily_cost_limit_gbp_micros >= 0),
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table users (
  id uuid primary key default gen_random_uuid(),
  email text check (email ~ '^[^@\s]+@[^@\s]+$' and email = lower(email) and char_length(email) <= 320),
  name text not null default '' check (char_length(name) <= 200),
  password_hash text,
  clerk_user_id text unique,
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A person signs in either with a password (built-in accounts) or through Clerk.
  constraint users_has_identity check (clerk_user_id is not null or (email is not null and password_hash is not null))
);
create unique index users_email_key on users (email) where email is not null;

create table memberships (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')),
  clerk_membership_id text unique,
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint memberships_organization_user_key unique (organization_id, user_id)
);
create index memberships_user_idx on memberships (user_id);

create table invitations (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  email text not null check (email ~ '^[^@\s]+@[^@\s]+$' and email = lower(email)),
  role text not null check (role in ('owner', 'admin', 'member')),
  -- Only a hash of the link's token is stored, so a database leak does not leak usable links.
  token_hash text not null unique,
  status text not null default 'pending' check (status in ('pending', 'accepted', 'revoked')),
  invited_by_user_id uuid references users (id) on delete set null,
  accepted_by_user_id uuid references users (id) on delete set null,
  expires_at timestamptz not null,
  accepted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint invitations_accepted_has_time check ((status = 'accepted') = (accepted_at is not null))
);
create index invitations_organization_idx on invitations (organization_id, created_at desc);
create unique index invitations_one_pending_per_email on invitations (organization_id, email) where status = 'pending';

create table sessions (
  id uuid primary key default gen_random_uuid(),
  -- The cookie carries a random token; only its SHA-256 is stored.
  token_hash text not null unique,
  user_id uuid not null references users (id) on delete cascade,
  -- The organization the person is working in; cleared if they lose it.
  organization_id uuid references organizations (id) on delete set null,
  expires_at timestamptz not null,
  ip inet,
  user_agent text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sessions_expiry_after_creation check (expires_at > created_at)
);
create index sessions_user_idx on sessions (user_id);
create index sessions_expires_idx on sessions (expires_at);

create trigger organizations_updated_at before update on organizations for each row execute function set_updated_at();
create trigger users_updated_at before update on users for each row execute function set_updated_at();
create trigger memberships_updated_at before update on memberships for each row execute function set_updated_at();
create trigger invitations_updated_at before update on invitations for each row execute function set_updated_at();
create trigger sessions_updated_at before update on sessions for each row execute function set_updated_at();

alter table organizations enable row level security;
alter table users enable row level security;
alter table memberships enable row level security;
alter table invitations enable row level security;
alter table sessions enable row level security;
