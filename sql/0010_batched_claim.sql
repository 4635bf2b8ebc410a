-- The dispatcher's claim in one round trip: the dispatches n8n acknowledged since the last claim recorded, then up to
-- `p_limit` due jobs locked (SKIP LOCKED), each asked of the budget, leased, its episode moved QUEUED → GENERATING
-- with its audit row and announcement, and returned with what the generator's request needs. One statement is one
-- transaction, so a claim is all of this or none of it. graphile-worker claims the same way (its get_job); doing it
-- in SQL turns ~9 round trips per job, and a second commit for the acknowledgement, into one per batch.

-- The budget's answer for one generation, asked inside the claim. The cost controls replace its body; until then
-- every generation may start.
create function reserve_generation_budget(
  p_organization_id uuid,
  p_episode_id uuid,
  p_attempt integer,
  p_estimate_gbp_micros bigint,
  out granted boolean,
  out reason text,
  out resume_at timestamptz
)
language plpgsql
set search_path = public, pg_catalog
as $$
begin
  granted := true;
end
$$;

create function claim_generation_jobs(
  p_owner text,
  p_lease_ms integer,
  p_limit integer,
  p_generated_by text,
  p_estimate_gbp_micros bigint,
  p_acknowledged uuid[],
  p_acknowledged_lease_ms integer
)
returns table (job episode_schedule_queue, episode episodes, project_title text, project_brief text, planning_notes jsonb, recent_episodes jsonb)
language plpgsql
set search_path = public, pg_catalog
-- Its statements take arrays the planner cannot size, so custom plans never look cheaper and would be planned on
-- every call (~2 ms); the generic plans are index lookups whatever the arrays hold.
set plan_cache_mode = force_generic_plan
as $$
declare
  due episode_schedule_queue;
  budget record;
  changed episodes;
  granted uuid[] := '{}';
  started_organizations uuid[] := '{}';
  started_episodes uuid[] := '{}';
  started_attempts integer[] := '{}';
begin
  -- n8n has these: each lease now lasts until the generation timeout, waiting for the final callback.
  update episode_schedule_queue q set
    locked_until = now() + make_interval(secs => p_acknowledged_lease_ms / 1000.0), dispatched_at = now()
  where q.id = any(p_acknowledged) and q.status = 'processing' and q.locked_by = p_owner;

  -- Due jobs one at a time, each locked (SKIP LOCKED passes other claims' rows; `granted` passes our own) and asked
  -- of the budget, until `p_limit` may start. A refused one waits, unleased and without spending an attempt, and
  -- its episode says why.
  while cardinality(granted) < p_limit loop
    select * into due from episode_schedule_queue q
    where q.status = 'pending' and q.run_at <= now() and q.id <> all(granted)
    order by q.run_at
    limit 1
    for update skip locked;
    exit when not found;
    budget := reserve_generation_budget(due.organization_id, due.episode_id, due.attempts + 1, p_estimate_gbp_micros);
    if budget.granted then
      granted := granted || due.id;
      continue;
    end if;
    update episode_schedule_queue set run_at = budget.resume_at, last_error = budget.reason where id = due.id;
    update episodes e set generation_message = budget.reason, version = e.version + 1
      where e.organization_id = due.organization_id and e.id = due.episode_id and e.status = 'QUEUED'
        and e.generation_message is distinct from budget.reason
      returning e.* into changed;
    if found then
      perform pg_notify('episode_status', json_build_object('episodeId', changed.id, 'organizationId', changed.organization_id,
        'projectId', changed.project_id, 'status', changed.status, 'version', changed.version)::text);
    end if;
  end loop;

  -- The granted jobs' episodes QUEUED → GENERATING, each announced as models/episodes.server.ts announces (sent at
  -- commit). One whose episode left QUEUED (deleted with its project, or failed meanwhile) has nothing to generate.
  for changed in
    update episodes e set
      status = 'GENERATING',
      generation_attempts = e.generation_attempts + 1,
      generation_stage = 'research',
      generation_percent = 0,
      generation_message = 'Starting research',
      generation_findings = '[]',
      generation_sources = '[]',
      generation_started_at = now(),
      failure_reason = null,
      generated_by = p_generated_by,
      version = e.version + 1
    from episode_schedule_queue q
    where q.id = any(granted) and e.organization_id = q.organization_id and e.id = q.episode_id and e.status = 'QUEUED'
    returning e.*
  loop
    perform pg_notify('episode_status', json_build_object('episodeId', changed.id, 'organizationId', changed.organization_id,
      'projectId', changed.project_id, 'status', changed.status, 'version', changed.version)::text);
    started_organizations := started_organizations || changed.organization_id;
    started_episodes := started_episodes || changed.id;
    started_attempts := started_attempts || changed.generation_attempts;
  end loop;

  -- Their audit rows, as models/audit.server.ts writes them for the dispatcher.
  insert into audit_log (organization_id, actor_user_id, actor_label, action, target_type, target_id, after)
  select s.organization_id, null, 'dispatcher', 'episode.generating', 'episode', s.episode_id::text,
    jsonb_build_object('status', 'GENERATING', 'attempt', s.attempt)
  from unnest(started_organizations, started_episodes, started_attempts) as s(organization_id, episode_id, attempt);

  update episode_schedule_queue q set
    status = 'processing', attempts = q.attempts + 1, locked_at = now(), locked_by = p_owner,
    locked_until = now() + make_interval(secs => p_lease_ms / 1000.0), dispatched_at = null
  where q.id = any(granted) and q.episode_id = any(started_episodes);
  update episode_schedule_queue q set status = 'failed', last_error = 'episode no longer queued'
  where q.id = any(granted) and q.status = 'pending';

  -- What each generator's request needs.
  return query
  select q, e, p.title, p.onboarding_brief, notes.bodies, recent.episodes
  from unnest(started_organizations, started_episodes) as s(organization_id, episode_id)
  join episodes e on e.organization_id = s.organization_id and e.id = s.episode_id
  join episode_schedule_queue q on q.organization_id = s.organization_id and q.episode_id = s.episode_id
  join projects p on p.organization_id = e.organization_id and p.id = e.project_id
  cross join lateral (
    select coalesce(jsonb_agg(n.body order by n.created_at), '[]') as bodies
    from planning_notes n where n.organization_id = e.organization_id and n.project_id = e.project_id
  ) notes
  cross join lateral (
    select coalesce(jsonb_agg(jsonb_build_object('title', r.title, 'summary', r.summary, 'publishedAt', r.published_at)
      order by r.published_at desc), '[]') as episodes
    from (
      select r.title, r.summary, r.published_at from episodes r
      where r.organization_id = e.organization_id and r.project_id = e.project_id and r.status = 'PUBLISHED'
      order by r.published_at desc
      limit 5
    ) r
  ) recent;
end
$$;
