-- Composite tenant keys on the tables the next issues fill, conversations that go with their project, sign-in
-- throttling counted atomically, and Clerk membership tombstones by (organization, user).

-- Children prove their organization matches their parent's: (id, organization_id) is what they reference.
alter table episodes add constraint episodes_id_organization_key unique (id, organization_id);
alter table subscribers add constraint subscribers_id_organization_key unique (id, organization_id);

alter table episode_schedule_queue drop constraint episode_schedule_queue_episode_id_fkey;
alter table episode_schedule_queue add constraint episode_schedule_queue_episode_organization_fkey
  foreign key (episode_id, organization_id) references episodes (id, organization_id) on delete cascade;

-- Usage stays on the books when its episode goes: only episode_id is cleared (PostgreSQL 15+ column list), the
-- organization stays.
alter table token_usage drop constraint token_usage_episode_id_fkey;
alter table token_usage add constraint token_usage_episode_organization_fkey
  foreign key (episode_id, organization_id) references episodes (id, organization_id) on delete set null (episode_id);

alter table email_deliveries drop constraint email_deliveries_episode_id_fkey;
alter table email_deliveries drop constraint email_deliveries_subscriber_id_fkey;
alter table email_deliveries add constraint email_deliveries_episode_organization_fkey
  foreign key (episode_id, organization_id) references episodes (id, organization_id) on delete cascade;
alter table email_deliveries add constraint email_deliveries_subscriber_organization_fkey
  foreign key (subscriber_id, organization_id) references subscribers (id, organization_id) on delete cascade;
create index email_deliveries_subscriber_idx on email_deliveries (subscriber_id) where subscriber_id is not null;

-- A conversation is the start of its project and goes with it. (Setting project_id to null broke
-- project_conversations_completed_has_project, so a project made through Futura could not be deleted.)
alter table project_conversations drop constraint project_conversations_project_id_fkey;
alter table project_conversations add constraint project_conversations_project_organization_fkey
  foreign key (project_id, organization_id) references projects (id, organization_id) on delete cascade;
create index project_conversations_project_idx on project_conversations (project_id) where project_id is not null;

-- Sign-in attempts per fixed window, counted with one upsert before the password is checked, so concurrent
-- attempts cannot all pass a limit they each read as not reached. Keys are SHA-256 hashes: no addresses or emails
-- are kept here.
create table sign_in_attempts (
  scope text not null check (scope in ('address', 'email_address', 'email')),
  key_hash text not null check (char_length(key_hash) = 64),
  window_start timestamptz not null,
  count integer not null default 0 check (count >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (scope, key_hash, window_start)
);
create index sign_in_attempts_window_idx on sign_in_attempts (window_start);
create trigger sign_in_attempts_updated_at before update on sign_in_attempts for each row execute function set_updated_at();
alter table sign_in_attempts enable row level security;

-- Throttling no longer counts audit rows.
drop index audit_log_sign_in_failures_email_idx;
drop index audit_log_sign_in_failures_ip_idx;

-- A deleted membership is also remembered by its (organization, user), so a session token issued before the
-- deletion cannot re-create it through the lazy path, which knows no membership id.
alter table clerk_deletions add column clerk_organization_id text check (char_length(clerk_organization_id) <= 200);
alter table clerk_deletions add column clerk_user_id text check (char_length(clerk_user_id) <= 200);
alter table clerk_deletions add constraint clerk_deletions_membership_names_pair check (
  object_type <> 'organization_membership' or (clerk_organization_id is null) = (clerk_user_id is null)
);
create index clerk_deletions_membership_pair_idx on clerk_deletions (clerk_organization_id, clerk_user_id, deleted_at desc)
  where object_type = 'organization_membership';
