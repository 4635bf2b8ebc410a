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

export interface PoolerProbe {
  /** True when server processes are handed between client connections at transaction boundaries. */
  transactionPooler: boolean;
  /** What gave it away, for the error message. */
  evidence?: string;
}

/**
 * Finds out whether `url` leads to a transaction pooler (PgBouncer or Supavisor in transaction mode), which the
 * server does not report about itself: its version text and `SHOW` commands are PostgreSQL's.
 *
 * Two client connections take turns: A runs a statement, then B holds a transaction open while A runs another. A
 * client connection keeps one server process for its whole life on a direct connection or behind a session pooler,
 * so the pids never cross; a transaction pooler gives B the process A just released (PgBouncer reuses the most
 * recent one) or A a new one while B holds its own. Under other traffic the released process can go to a stranger
 * first (about one round in four under heavy load, measured), so it runs several rounds. The pid a pooler announces
 * in the handshake is no shortcut: nothing promises that every pooler makes up its own rather than relaying one.
 */
export async function probeTransactionPooler(url: string, rounds = 12): Promise<PoolerProbe> {
  const options = { max: 1, prepare: false, idle_timeout: 5, connect_timeout: 10, fetch_types: false, onnotice: () => {} };
  const first = postgres(url, options);
  const second = postgres(url, options);
  const backendPid = async (sql: postgres.Sql | postgres.TransactionSql) => {
    const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    return row.pid;
  };
  try {
    for (let round = 0; round < rounds; round++) {
      const before = await backendPid(first);
      const evidence = await second.begin(async (tx) => {
        const other = await backendPid(tx);
        // Checked before A asks again: with a one-connection pool, A would wait on B's open transaction for ever.
        if (other === before) return `server process ${before} served two client connections`;
        const after = await backendPid(first);
        if (after !== before) return `one client connection was served by server processes ${before} and ${after}`;
        return undefined;
      });
      if (evidence) return { transactionPooler: true, evidence };
    }
    return { transactionPooler: false };
  } finally {
    await Promise.all([first.end({ timeout: 5 }), second.end({ timeout: 5 })]);
  }
}
