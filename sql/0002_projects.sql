-- Projects, the conversation that creates them, their notes and episodes, and the generation queue.

create table projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  created_by_user_id uuid references users (id) on delete set null,
  title text not null check (char_length(btrim(title)) between 1 and 200),
  onboarding_brief text not null default '' check (char_length(onboarding_brief) <= 20000),
  status text not null default 'ACTIVE' check (status in ('ACTIVE', 'ARCHIVED')),
  cadence_type text not null default 'weekly' check (cadence_type in ('weekly', 'custom', 'daily', 'paused')),
  -- ISO weekdays, 1 = Monday … 7 = Sunday.
  cadence_days smallint[] not null default '{1}',
  delivery_hour smallint not null default 7 check (delivery_hour between 0 and 23),
  delivery_minute smallint not null default 0 check (delivery_minute between 0 and 59),
  timezone text not null default 'UTC' check (char_length(timezone) between 1 and 64),
  next_scheduled_at timestamptz,
  archived_at timestamptz,
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint projects_cadence_days_valid check (
    cadence_days <@ '{1,2,3,4,5,6,7}'::smallint[]
    and (cadence_type not in ('weekly', 'custom') or cardinality(cadence_days) >= 1)
    and (cadence_type <> 'weekly' or cardinality(cadence_days) = 1)
  ),
  constraint projects_archived_has_time check ((status = 'ARCHIVED') = (archived_at is not null)),
  -- Lets child tables prove their organization matches their project's.
  constraint projects_id_organization_key unique (id, organization_id)
);
create index projects_organization_updated_idx on projects (organization_id, updated_at desc);
create index projects_due_idx on projects (next_scheduled_at) where status = 'ACTIVE' and cadence_type <> 'paused';

create table project_conversations (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  status text not null default 'active' check (status in ('active', 'completed', 'abandoned')),
  answers jsonb not null default '{}' check (jsonb_typeof(answers) = 'object'),
  project_id uuid references projects (id) on delete set null,
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint project_conversations_completed_has_project check (status <> 'completed' or project_id is not null)
);
create index project_conversations_user_idx on project_conversations (organization_id, user_id, updated_at desc);
create index project_conversations_stale_idx on project_conversations (updated_at) where status = 'active';

create table planning_notes (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  project_id uuid not null,
  author_user_id uuid references users (id) on delete set null,
  kind text not null default 'note' check (kind in ('note', 'conversation')),
  body text not null check (char_length(btrim(body)) between 1 and 20000),
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references projects (id, organization_id) on delete cascade
);
create index planning_notes_project_idx on planning_notes (organization_id, project_id, created_at);

create table episodes (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  project_id uuid not null,
  status text not null default 'DRAFT' check (status in ('DRAFT', 'QUEUED', 'GENERATING', 'PUBLISHED', 'FAILED')),
  title text check (char_length(title) <= 300),
  content text,
  summary text,
  sources jsonb not null default '[]' check (jsonb_typeof(sources) = 'array'),
  scheduled_for timestamptz not null,
  published_at timestamptz,
  reading_minutes integer check (reading_minutes > 0),
  generation_stage text check (generation_stage in ('research', 'writing', 'review')),
  generation_attempts integer not null default 0 check (generation_attempts >= 0),
  generation_errors jsonb not null default '[]' check (jsonb_typeof(generation_errors) = 'array'),
  version integer not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, organization_id) references projects (id, organization_id) on delete cascade,
  constraint episodes_project_slot_key unique (project_id, scheduled_for),
  constraint episodes_published_complete check (
    status <> 'PUBLISHED' or (published_at is not null and content is not null and title is not null)
  )
);
create index episodes_project_scheduled_idx on episodes (organization_id, project_id, scheduled_for desc);
create index episodes_project_published_idx on episodes (organization_id, project_id, published_at desc) where status = 'PUBLISHED';

create table episode_schedule_queue (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  episode_id uuid not null unique references episodes (id) on delete cascade,
  status text not null default 'pending' check (status in ('pending', 'processing', 'completed', 'failed')),
  run_at timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 3 check (max_attempts >= 1),
  locked_at timestamptz,
  locked_by text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint episode_schedule_queue_processing_locked check (status <> 'processing' or (locked_at is not null and locked_by is not null)),
  constraint episode_schedule_queue_attempts_bounded check (attempts <= max_attempts)
);
create index episode_schedule_queue_claim_idx on episode_schedule_queue (run_at) where status = 'pending';
create index episode_schedule_queue_stalled_idx on episode_schedule_queue (locked_at) where status = 'processing';
create index episode_schedule_queue_organization_idx on episode_schedule_queue (organization_id, status);

create trigger projects_updated_at before update on projects for each row execute function set_updated_at();
create trigger project_conversations_updated_at before update on project_conversations for each row execute function set_updated_at();
create trigger planning_notes_updated_at before update on planning_notes for each row execute function set_updated_at();
create trigger episodes_updated_at before update on episodes for each row execute function set_updated_at();
create trigger episode_schedule_queue_updated_at before update on episode_schedule_queue for each row execute function set_updated_at();

alter table projects enable row level security;
alter table project_conversations enable row level security;
alter table planning_notes enable row level security;
alter table episodes enable row level security;
alter table episode_schedule_queue enable row level security;
