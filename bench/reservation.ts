// The cost of the budget's guarantee: reservations per second (`reserve_generation_budget`, the function the claim
// calls, each one its own transaction) from 8 connections contending for one organization's day row, against plain
// single-row UPDATEs of that same row from the same 8 connections on the same database. The ratio is the price
// of the check, the episode lock and the reservation row on top of the row lock every reservation must take.
import postgres from "postgres";
import { databaseUrl } from "../tests/support/postgres-server";
import type { BenchPostgres } from "./queue";

export interface ReservationResult {
  connections: number;
  attempts: number;
  reservationsPerSecond: number;
  granted: number;
  plainUpdatesPerSecond: number;
  /** reservations/s ÷ plain UPDATEs/s. */
  ratio: number;
  /** reserved + spent above the limit once every reservation ran: must be 0. */
  overrunGbpMicros: number;
}

async function timed(connections: postgres.Sql[], count: number, work: (sql: postgres.Sql, i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    connections.map(async (sql) => {
      for (let i = next++; i < count; i = next++) await work(sql, i);
    }),
  );
  return (performance.now() - started) / 1000;
}

export async function reservationThroughput(server: BenchPostgres, attempts: number, connectionCount = 8): Promise<ReservationResult> {
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  const database = `mf_bench_reservation_${Date.now()}`;
  await admin.unsafe(`create database ${database} template ${server.templateDatabase}`);
  const url = databaseUrl(server.adminUrl, database);
  const setup = postgres(url, { max: 1, onnotice: () => {} });
  const connections = Array.from({ length: connectionCount }, () => postgres(url, { max: 1, onnotice: () => {} }));
  try {
    // A limit that lets nine in ten through, so both the granted and the refused path are measured.
    const estimate = 10_000;
    const limit = Math.floor(attempts * 0.9) * estimate;
    const [org] = await setup<{ id: string }[]>`
      insert into organizations (name, daily_cost_limit_gbp_micros) values ('Bench', ${limit}) returning id`;
    const [user] = await setup<{ id: string }[]>`insert into users (email, name, password_hash) values ('bench@example.com', 'Bench', 'unused') returning id`;
    const [project] = await setup<{ id: string }[]>`
      insert into projects (organization_id, created_by_user_id, title, onboarding_brief, cadence_type, cadence_days)
      values (${org.id}, ${user.id}, 'Bench', 'Bench.', 'weekly', '{1}') returning id`;
    const episodes = await setup<{ id: string }[]>`
      insert into episodes (organization_id, project_id, scheduled_for, status)
      select ${org.id}, ${project.id}, now() + make_interval(secs => n), 'QUEUED' from generate_series(1, ${attempts}) as n
      returning id`;
    await Promise.all(connections.map((sql) => sql`select 1`));

    let granted = 0;
    const reservationSeconds = await timed(connections, attempts, async (sql, i) => {
      const [answer] = await sql<{ granted: boolean }[]>`
        select granted from reserve_generation_budget(${org.id}, ${episodes[i].id}, 1, ${estimate})`;
      if (answer.granted) granted++;
    });
    const [day] = await setup<{ day: string; cost: string; reserved: string }[]>`
      select usage_date::text as day, cost_gbp_micros as cost, reserved_gbp_micros as reserved from token_usage_daily where organization_id = ${org.id}`;
    const overrun = Math.max(0, Number(day.cost) + Number(day.reserved) - limit);

    const plainSeconds = await timed(connections, attempts, (sql) =>
      sql`update token_usage_daily set reserved_gbp_micros = reserved_gbp_micros + 1 where organization_id = ${org.id} and usage_date = ${day.day}::date`,
    );
    const reservationsPerSecond = Math.round(attempts / reservationSeconds);
    const plainUpdatesPerSecond = Math.round(attempts / plainSeconds);
    return {
      connections: connectionCount,
      attempts,
      reservationsPerSecond,
      granted,
      plainUpdatesPerSecond,
      ratio: Math.round((reservationsPerSecond / plainUpdatesPerSecond) * 100) / 100,
      overrunGbpMicros: overrun,
    };
  } finally {
    await Promise.all([setup, ...connections].map((sql) => sql.end({ timeout: 5 })));
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end({ timeout: 5 });
  }
}
