import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "./ports";

export const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? "/usr/sbin/pgbouncer";

export interface RunningPgBouncer {
  /** host:port it listens on. */
  address: string;
  /** Everything it logged, line by line. */
  output: string[];
  stop(): Promise<void>;
}

/** The same user, password and database as `url`, through the pooler at `address`. */
export function throughPooler(url: string, address: string): string {
  const pooled = new URL(url);
  pooled.host = address;
  return pooled.toString();
}

const quote = (value: string) => `"${value.replaceAll('"', '""')}"`;

/**
 * A real PgBouncer in front of the server `serverUrl` names: in transaction mode (the default) it stands in for
 * Supabase's Supavisor on port 6543, in session mode for its port 5432. Every database on that server, for
 * `serverUrl`'s user, with a small server pool so that concurrent clients really share server connections.
 */
export async function startPgBouncer(
  serverUrl: string,
  options: { poolSize?: number; poolMode?: "transaction" | "session" } = {},
): Promise<RunningPgBouncer> {
  if (!fs.existsSync(PGBOUNCER_BIN)) {
    throw new Error(
      `PgBouncer is not installed at ${PGBOUNCER_BIN}: the pooler tests need it. Install Debian's package with ` +
        "`apt-get install -y pgbouncer` (.ci/run does), or set PGBOUNCER_BIN.",
    );
  }
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  // Readable by root only: PgBouncer reads its files before it drops to `nobody`, and never needs them after.
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "mf-pgbouncer-"));
  const authFile = path.join(dir, "userlist.txt");
  const iniFile = path.join(dir, "pgbouncer.ini");
  await fsp.writeFile(authFile, `${quote(user)} ${quote(password)}\n`, { mode: 0o600 });
  await fsp.writeFile(
    iniFile,
    [
      "[databases]",
      `* = host=${server.hostname.replace(/^\[|\]$/g, "")} port=${server.port || 5432}`,
      "",
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      `auth_type = ${password ? "scram-sha-256" : "trust"}`,
      `auth_file = ${authFile}`,
      `pool_mode = ${options.poolMode ?? "transaction"}`,
      `default_pool_size = ${options.poolSize ?? 5}`,
      "max_client_conn = 1000",
      // Test databases come and go; a dropped one must not linger as a pool.
      "autodb_idle_timeout = 30",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );

  // PgBouncer refuses to run as root; -u makes it switch to an unprivileged user once it has read its files.
  const runAsRoot = os.userInfo().uid === 0;
  const child = spawn(PGBOUNCER_BIN, [...(runAsRoot ? ["-u", "nobody"] : []), iniFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        output.push(line);
        if (line.includes("process up")) resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("error", reject);
    void exited.then((code) => reject(new Error(`pgbouncer exited with ${code} before it was up:\n${output.join("\n")}`)));
  });

  return {
    address: `127.0.0.1:${port}`,
    output,
    async stop() {
      // SIGTERM: immediate shutdown, closing client connections (SIGINT would wait for them).
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface PoolerLoad {
  /** Stops the load and resolves with how many transactions it committed. */
  stop(): Promise<number>;
}

// Runs in its own process: `clients` connections, more than the pooler's five server connections, each committing
// short transactions back to back, so every server connection is in use and newcomers queue in PgBouncer.
const LOAD_SCRIPT = `
import postgres from "postgres";
const [url, clients] = [process.env.LOAD_URL, Number(process.env.LOAD_CLIENTS)];
const sql = postgres(url, { max: clients, prepare: false, onnotice: () => {} });
let committed = 0;
let stopping = false;
process.on("SIGTERM", () => (stopping = true));
await Promise.all(Array.from({ length: clients }, async () => {
  while (!stopping) {
    await sql.begin((tx) => tx\`select pg_sleep(0.05)\`);
    committed++;
    if (committed === clients) console.log("busy");
  }
}));
await sql.end({ timeout: 5 });
console.log(JSON.stringify({ committed }));
`;

/** Another process keeping the pooler busy with `url`'s database until stopped. */
export async function startPoolerLoad(url: string, clients = 7): Promise<PoolerLoad> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", LOAD_SCRIPT], {
    env: { PATH: process.env.PATH, NODE_ENV: "test", LOAD_URL: url, LOAD_CLIENTS: String(clients) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => output.includes("busy") && resolve());
    void exited.then((code) => reject(new Error(`the load process exited with ${code}:\n${output}`)));
  });
  return {
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      const last = output.trim().split("\n").pop() ?? "";
      if (code !== 0 || !last.startsWith("{")) throw new Error(`the load process failed (exit ${code}):\n${output}`);
      return (JSON.parse(last) as { committed: number }).committed;
    },
  };
}
