import postgres from "postgres";

export type Db = postgres.Sql;
/** Anything that runs a query: the pool or a transaction's `sql`. */
export type Queryable = postgres.ISql;

export interface DbOptions {
  /** Behind a transaction pooler (Supabase port 6543) prepared statements must be off. */
  pooled?: boolean;
  max?: number;
}

export function createDb(url: string, options: DbOptions = {}): Db {
  return postgres(url, {
    max: options.max ?? 10,
    prepare: !options.pooled,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    transform: postgres.camel,
    // int8 (counts, money in micro-units) as numbers: exact up to 2^53, far above any value we store.
    types: {
      bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) },
    },
  }) as unknown as Db;
}

const registry = globalThis as typeof globalThis & { __manyFuturesDb?: Db };

/**
 * The process-wide pool. server.ts opens it before the Remix build loads; the build is bundled apart
 * from server.ts, so the pool lives on globalThis where both see the same one.
 */
export function getDb(): Db {
  if (!registry.__manyFuturesDb) throw new Error("The database is not open yet: call openDatabase() first.");
  return registry.__manyFuturesDb;
}

export function setDb(db: Db | undefined): void {
  registry.__manyFuturesDb = db;
}
