-- Subscribers with double opt-in and where they came from, a project's public switches, and accounts that verify
-- their email and reset their password by single-use links.

-- Where a subscriber came from. Members opt in with their own (verified) account, so they carry its user id and
-- are confirmed at once; everyone else confirms by a link that expires.
alter table subscribers add column source text not null default 'admin' check (source in ('member', 'admin', 'public', 'import'));
alter table subscribers add column user_id uuid references users (id) on delete cascade;
alter table subscribers add column confirmation_sent_at timestamptz;
alter table subscribers add column confirmation_expires_at timestamptz;
alter table subscribers add constraint subscribers_member_has_user check ((source = 'member') = (user_id is not null));
alter table subscribers add constraint subscribers_token_has_expiry check (confirm_token_hash is null or confirmation_expires_at is not null);
create unique index subscribers_project_user_key on subscribers (project_id, user_id) where user_id is not null;

-- Both off: a project is private until its owners choose otherwise.
alter table projects add column public_subscribe boolean not null default false;
alter table projects add column public_archive boolean not null default false;

-- Built-in accounts prove their address by a link; Clerk verifies its own users, so the column stays null for them.
alter table users add column email_verified_at timestamptz;

-- Links mailed to an account: verify its address, reset its password, sign in without one. Only the SHA-256 of a
-- link's token is kept; each works once and until it expires. It counts only for the address it was sent to.
create table account_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  purpose text not null check (purpose in ('email_verification', 'password_reset', 'sign_in')),
  token_hash text not null unique check (char_length(token_hash) = 64),
  email text not null check (email ~ '^[^@\s]+@[^@\s]+$' and email = lower(email)),
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint account_tokens_expiry_after_creation check (expires_at > created_at)
);
create index account_tokens_user_purpose_idx on account_tokens (user_id, purpose, created_at desc);
create trigger account_tokens_updated_at before update on account_tokens for each row execute function set_updated_at();
alter table account_tokens enable row level security;

-- Forms that make the app send an email to any address typed in (public subscribe, forgot password) are counted per
-- client address in the sign-in counters' table, so one client cannot mail a crowd.
alter table sign_in_attempts drop constraint sign_in_attempts_scope_check;
alter table sign_in_attempts add constraint sign_in_attempts_scope_check
  check (scope in ('address', 'email_address', 'email', 'mail_request_address'));
