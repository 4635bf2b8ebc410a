-- Support for sign-in throttling and for mirroring Clerk, whose webhooks may arrive late, twice or out of order.

-- The newest Clerk `updated_at` applied to each mirrored row: an older event never overwrites a newer one.
alter table users add column clerk_updated_at timestamptz;
alter table organizations add column clerk_updated_at timestamptz;
alter table memberships add column clerk_updated_at timestamptz;

-- Objects Clerk has deleted, so a create or update that arrives after the delete cannot bring them back.
create table clerk_deletions (
  clerk_id text primary key check (char_length(clerk_id) between 1 and 200),
  object_type text not null check (object_type in ('user', 'organization', 'organization_membership')),
  deleted_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger clerk_deletions_updated_at before update on clerk_deletions for each row execute function set_updated_at();
alter table clerk_deletions enable row level security;

-- Sign-in throttling counts recent failures per email and per address.
create index audit_log_sign_in_failures_email_idx on audit_log (target_id, created_at) where action = 'auth.sign_in_failed';
create index audit_log_sign_in_failures_ip_idx on audit_log (ip, created_at) where action = 'auth.sign_in_failed';
