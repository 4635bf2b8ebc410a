-- The daily budget as a guarantee. Dispatch sets each generation's estimated maximum cost aside on the
-- organization's day row with one conditional UPDATE (cost + reserved + estimate <= limit), inside the claim's
-- statement, so concurrent claims queue on that row and can never pass the limit together. Completion turns the
-- reservation into spend; a failure, a timeout or a reaped lease releases it. Each exactly once: the reservation
-- row's status moves from held only once. The day is the organization's local date.

-- A zone name PostgreSQL can use, shaped like an IANA name (Area/Location, Etc/GMT+5, UTC), not a POSIX offset
-- rule such as "ABC+3". The app stores only the canonical names its select offers; this is the backstop. Asking
-- pg_timezone_names instead reads every zone file, ~30 ms on each organizations write.
create function is_time_zone(p_zone text) returns boolean
language plpgsql
stable
set search_path = pg_catalog
as $$
begin
  if p_zone is null or char_length(p_zone) not between 1 and 64 or p_zone !~ '^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z0-9_+-]+)*$' then
    return false;
  end if;
  perform now() at time zone p_zone;
  return true;
exception when invalid_parameter_value then
  return false;
end
$$;

alter table organizations
  add column time_zone text not null default 'UTC' check (is_time_zone(time_zone));

alter table token_usage_daily
  -- What callbacks reported beyond their reservations: recorded as spent, and it stops dispatch for the day.
  add column overshoot_gbp_micros bigint not null default 0 check (overshoot_gbp_micros >= 0),
  add column dispatch_stopped_at timestamptz,
  -- The first refusal of the day: the daily_limit_exceeded event is logged once.
  add column limit_reached_at timestamptz;

create table generation_budget_reservations (
  organization_id uuid not null references organizations (id) on delete cascade,
  -- Not a foreign key: the reservation's record outlives its episode (deleting one releases what it held).
  episode_id uuid not null,
  -- The episode's attempt the reservation pays for: the number the generator's reports carry.
  attempt integer not null check (attempt >= 1),
  -- The organization's local day it was made: settled against that day whenever the result arrives.
  usage_date date not null,
  amount_gbp_micros bigint not null check (amount_gbp_micros >= 0),
  status text not null default 'held' check (status in ('held', 'settled', 'released')),
  settled_gbp_micros bigint check (settled_gbp_micros >= 0),
  closed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, episode_id, attempt),
  constraint generation_budget_reservations_closed check ((status = 'held') = (closed_at is null)),
  constraint generation_budget_reservations_settled check ((status = 'settled') = (settled_gbp_micros is not null))
);
create index generation_budget_reservations_day_idx on generation_budget_reservations (organization_id, usage_date);
create index generation_budget_reservations_held_idx on generation_budget_reservations (organization_id, episode_id) where status = 'held';

-- 80 % and 100 % of the limit, each once per organization per day.
create table budget_alerts (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  usage_date date not null,
  threshold_percent smallint not null check (threshold_percent in (80, 100)),
  cost_gbp_micros bigint not null check (cost_gbp_micros >= 0),
  limit_gbp_micros bigint not null check (limit_gbp_micros >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint budget_alerts_once_key unique (organization_id, usage_date, threshold_percent)
);

create trigger generation_budget_reservations_updated_at before update on generation_budget_reservations
  for each row execute function set_updated_at();
create trigger budget_alerts_updated_at before update on budget_alerts for each row execute function set_updated_at();
alter table generation_budget_reservations enable row level security;
alter table budget_alerts enable row level security;

-- The organization's local date at `p_at`.
create function organization_usage_date(p_organization_id uuid, p_at timestamptz) returns date
language sql
stable
set search_path = public, pg_catalog
as $$
  select (p_at at time zone o.time_zone)::date from organizations o where o.id = p_organization_id
$$;

-- The reservation itself, at a given moment (tests pass one; the claim passes now()). Granted without setting
-- anything aside when the episode is no longer QUEUED: nothing will start, and the claim closes its job.
create function reserve_generation_budget_at(
  p_organization_id uuid,
  p_episode_id uuid,
  p_estimate_gbp_micros bigint,
  p_now timestamptz,
  out granted boolean,
  out reason text,
  out resume_at timestamptz
)
language plpgsql
set search_path = public, pg_catalog
as $$
declare
  org organizations;
  next_attempt integer;
  day date;
  refused token_usage_daily;
begin
  if p_estimate_gbp_micros is null or p_estimate_gbp_micros < 0 then
    raise exception 'a reservation needs an estimate of zero or more, not %', p_estimate_gbp_micros using errcode = 'check_violation';
  end if;
  select * into strict org from organizations where id = p_organization_id;
  -- Locked so it stays QUEUED until the claim moves it to GENERATING with exactly this attempt number.
  select e.generation_attempts + 1 into next_attempt from episodes e
  where e.organization_id = p_organization_id and e.id = p_episode_id and e.status = 'QUEUED'
  for update;
  if not found then
    granted := true;
    return;
  end if;

  day := (p_now at time zone org.time_zone)::date;
  insert into token_usage_daily (organization_id, usage_date) values (p_organization_id, day)
  on conflict (organization_id, usage_date) do nothing;
  -- The guarantee: this row's lock serialises every reservation of the day, and the condition is checked on the
  -- row as locked, so the sum set aside plus spent stays within the limit whatever runs alongside.
  update token_usage_daily d set reserved_gbp_micros = d.reserved_gbp_micros + p_estimate_gbp_micros
  where d.organization_id = p_organization_id and d.usage_date = day
    and d.dispatch_stopped_at is null
    and d.cost_gbp_micros < org.daily_cost_limit_gbp_micros
    and d.cost_gbp_micros + d.reserved_gbp_micros + p_estimate_gbp_micros <= org.daily_cost_limit_gbp_micros;
  if found then
    insert into generation_budget_reservations (organization_id, episode_id, attempt, usage_date, amount_gbp_micros)
    values (p_organization_id, p_episode_id, next_attempt, day, p_estimate_gbp_micros);
    granted := true;
    return;
  end if;

  granted := false;
  reason := 'Daily budget reached — resumes tomorrow';
  resume_at := (day + 1)::timestamp at time zone org.time_zone;
  update token_usage_daily d set limit_reached_at = p_now
  where d.organization_id = p_organization_id and d.usage_date = day and d.limit_reached_at is null
  returning d.* into refused;
  if found then
    insert into user_events (organization_id, user_id, event_type, event_data)
    values (p_organization_id, null, 'daily_limit_exceeded', jsonb_build_object(
      'usageDate', day, 'limitGbpMicros', org.daily_cost_limit_gbp_micros, 'costGbpMicros', refused.cost_gbp_micros,
      'reservedGbpMicros', refused.reserved_gbp_micros, 'estimateGbpMicros', p_estimate_gbp_micros,
      'dispatchStopped', refused.dispatch_stopped_at is not null, 'resumeAt', resume_at));
  end if;
end
$$;

-- The budget's answer inside claim_generation_jobs (sql/0010), same signature as its stub. `p_attempt` is the
-- queue's count, which starts again when a person retries a FAILED episode; the reservation is keyed by the
-- episode's own attempt number instead, which never repeats and which the generator's reports name.
create or replace function reserve_generation_budget(
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
  select r.granted, r.reason, r.resume_at into granted, reason, resume_at
  from reserve_generation_budget_at(p_organization_id, p_episode_id, p_estimate_gbp_micros, now()) r;
end
$$;

-- Jobs the budget turned away wait until the next day; when budget is freed (a release, a higher limit) they are
-- due again at once and the dispatchers are woken.
create function wake_budget_waiting_jobs(p_organization_id uuid) returns integer
language plpgsql
set search_path = public, pg_catalog
as $$
declare
  woken integer;
begin
  update episode_schedule_queue q set run_at = now()
  where q.organization_id = p_organization_id and q.status = 'pending' and q.run_at > now()
    and q.last_error = 'Daily budget reached — resumes tomorrow';
  get diagnostics woken = row_count;
  if woken > 0 then
    perform pg_notify('generation_queue', '');
  end if;
  return woken;
end
$$;

-- Releases what an attempt (or, with a null attempt, every attempt of the episode) still holds. Only held
-- reservations move, so a second release, or a release after settlement, changes nothing. Returns the amount freed.
create function release_generation_budget(p_organization_id uuid, p_episode_id uuid, p_attempt integer) returns bigint
language plpgsql
set search_path = public, pg_catalog
as $$
declare
  freed bigint;
begin
  with released as (
    update generation_budget_reservations r set status = 'released', closed_at = now()
    where r.organization_id = p_organization_id and r.episode_id = p_episode_id
      and (p_attempt is null or r.attempt = p_attempt) and r.status = 'held'
    returning r.usage_date, r.amount_gbp_micros
  ), per_day as (
    select usage_date, sum(amount_gbp_micros)::bigint as amount from released group by usage_date
  ), freed_days as (
    update token_usage_daily d set reserved_gbp_micros = d.reserved_gbp_micros - p.amount
    from per_day p
    where d.organization_id = p_organization_id and d.usage_date = p.usage_date
    returning p.amount
  )
  select coalesce(sum(amount), 0)::bigint into freed from freed_days;
  if freed > 0 then
    perform wake_budget_waiting_jobs(p_organization_id);
  end if;
  return freed;
end
$$;

-- The day an attempt's spend belongs to: the day its reservation was made, else the organization's today.
create function generation_budget_day(p_organization_id uuid, p_episode_id uuid, p_attempt integer) returns date
language sql
stable
set search_path = public, pg_catalog
as $$
  select coalesce(
    (select r.usage_date from generation_budget_reservations r
     where r.organization_id = p_organization_id and r.episode_id = p_episode_id and r.attempt = p_attempt),
    organization_usage_date(p_organization_id, now()))
$$;

-- Completion: the attempt's reservation leaves the day's reserved sum (its cost was added with the ledger rows).
-- A cost above the reservation is an overshoot: recorded on the day, and the day dispatches nothing more. A
-- reservation of zero is work the app could not price (no model price configured): its cost counts as spend, and
-- the limit still holds once spend reaches it, but there was no estimate to overshoot.
create function settle_generation_budget(
  p_organization_id uuid,
  p_episode_id uuid,
  p_attempt integer,
  p_cost_gbp_micros bigint,
  out usage_date date,
  out reserved_gbp_micros bigint,
  out overshoot_gbp_micros bigint
)
language plpgsql
set search_path = public, pg_catalog
as $$
begin
  update generation_budget_reservations r set status = 'settled', settled_gbp_micros = p_cost_gbp_micros, closed_at = now()
  where r.organization_id = p_organization_id and r.episode_id = p_episode_id and r.attempt = p_attempt and r.status = 'held'
  returning r.usage_date, r.amount_gbp_micros into usage_date, reserved_gbp_micros;
  if not found then
    return;
  end if;
  overshoot_gbp_micros := case when reserved_gbp_micros > 0 then greatest(p_cost_gbp_micros - reserved_gbp_micros, 0) else 0 end;
  update token_usage_daily d set
    reserved_gbp_micros = d.reserved_gbp_micros - settle_generation_budget.reserved_gbp_micros,
    overshoot_gbp_micros = d.overshoot_gbp_micros + settle_generation_budget.overshoot_gbp_micros,
    dispatch_stopped_at = case when settle_generation_budget.overshoot_gbp_micros > 0
      then coalesce(d.dispatch_stopped_at, now()) else d.dispatch_stopped_at end
  where d.organization_id = p_organization_id and d.usage_date = settle_generation_budget.usage_date;
end
$$;

-- An episode deleted mid-flight (with its project) will never report: what it held goes back at once.
create function episodes_release_budget() returns trigger
language plpgsql
set search_path = public, pg_catalog
as $$
begin
  if old.status = 'GENERATING' then
    perform release_generation_budget(old.organization_id, old.id, null);
  end if;
  return old;
end
$$;

create trigger episodes_release_budget before delete on episodes for each row execute function episodes_release_budget();
