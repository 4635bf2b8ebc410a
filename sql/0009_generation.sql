-- Episode generation: what a generating episode shows while it is made, the queue's lease, and the lifecycle's
-- rules, enforced here so no code path can skip a step.

alter table episodes
  add column generation_percent smallint not null default 0 check (generation_percent between 0 and 100),
  add column generation_message text check (char_length(generation_message) <= 500),
  -- What research has found so far: shown while the writer works.
  add column generation_findings jsonb not null default '[]' check (jsonb_typeof(generation_findings) = 'array'),
  add column generation_sources jsonb not null default '[]' check (jsonb_typeof(generation_sources) = 'array'),
  add column generation_started_at timestamptz,
  -- The last failure, in words a person can act on; the history stays in generation_errors.
  add column failure_reason text check (char_length(failure_reason) <= 1000),
  add column qa_passed boolean,
  add column qa_notes text check (char_length(qa_notes) <= 5000),
  add column generated_by text check (generated_by in ('n8n', 'builtin'));

-- DRAFT → QUEUED → GENERATING → PUBLISHED, or FAILED; a failed or timed-out attempt with attempts left goes
-- back to QUEUED, and a person may queue a FAILED episode again. Nothing else.
create function episodes_check_status_transition() returns trigger
language plpgsql
set search_path = pg_catalog
as $$
begin
  if new.status is distinct from old.status and (old.status, new.status) not in (
    ('DRAFT', 'QUEUED'),
    ('QUEUED', 'GENERATING'),
    ('QUEUED', 'FAILED'),
    ('GENERATING', 'PUBLISHED'),
    ('GENERATING', 'FAILED'),
    ('GENERATING', 'QUEUED'),
    ('FAILED', 'QUEUED')
  ) then
    raise exception 'episode % cannot go from % to %', old.id, old.status, new.status
      using errcode = 'check_violation';
  end if;
  return new;
end
$$;

create trigger episodes_status_transition
  before update of status on episodes
  for each row execute function episodes_check_status_transition();

-- The queue row is the job: `processing` holds a lease until `locked_until`. While dispatching it is short; once
-- n8n has the job, it runs to the generation timeout; the built-in pipeline renews it as it works.
alter table episode_schedule_queue
  add column locked_until timestamptz,
  add column dispatched_at timestamptz,
  alter column max_attempts set default 5;
alter table episode_schedule_queue drop constraint episode_schedule_queue_processing_locked;
alter table episode_schedule_queue add constraint episode_schedule_queue_processing_leased
  check (status <> 'processing' or (locked_at is not null and locked_by is not null and locked_until is not null));
drop index episode_schedule_queue_stalled_idx;
create index episode_schedule_queue_lease_idx on episode_schedule_queue (locked_until) where status = 'processing';
