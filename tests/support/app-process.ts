import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "./ports";

export interface AppProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Everything the process printed, stdout and stderr, line by line. */
  output: string[];
  dataDir: string;
  /**
   * The URL of the app's own database: the embedded one's, from the password it keeps beside its data, or
   * DATABASE_URL when the caller gave one. Tests read the outbox there (links that would be emailed).
   */
  databaseUrl(): Promise<string>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const SERVER_BUNDLE = path.resolve("build/server.js");

async function pollUntilReady(url: string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const status = await fetch(url).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs the built server (`npm run build` makes it) as its own process on free ports. Without DATABASE_URL in
 * `env` it starts its embedded PostgreSQL in a fresh temporary folder, or in `dataDir` to reuse one.
 */
export async function startAppProcess(
  options: {
    env?: Record<string, string>;
    dataDir?: string;
    /** A log line that means "started", for processes with no HTTP server; otherwise /readyz is polled. */
    waitFor?: RegExp;
    /** What to run instead of `node build/server.js`, such as an npm script. */
    command?: string[];
  } = {},
): Promise<AppProcess> {
  if (!fs.existsSync(SERVER_BUNDLE)) throw new Error(`${SERVER_BUNDLE} is missing: run \`npm run build\` first.`);
  const dataDir = options.dataDir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), "mf-app-")));
  await fsp.chmod(dataDir, 0o755);
  // A caller may fix the port (PORT in env), e.g. to tell the app its own URL in APP_URL.
  const port = Number(options.env?.PORT) || (await freePort());
  const [program, ...args] = options.command ?? [process.execPath, SERVER_BUNDLE];
  const embeddedPort = Number(options.env?.EMBEDDED_DATABASE_PORT) || (await freePort());
  const child = spawn(program, args, {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      EMBEDDED_DATABASE_DIR: path.join(dataDir, "postgres"),
      EMBEDDED_DATABASE_PORT: String(embeddedPort),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;

  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      output.push(line);
      if (options.waitFor?.test(line)) resolve();
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let pending = "";
      stream.on("data", (chunk: Buffer) => {
        const lines = (pending + chunk.toString()).split("\n");
        pending = lines.pop()!;
        lines.forEach(onLine);
      });
    }
    void exited.then((code) => reject(new Error(`server exited with ${code} before it was ready:\n${output.join("\n")}`)));
    if (!options.waitFor) void pollUntilReady(`${baseUrl}/readyz`, exited).then(resolve, reject);
  });
  const timeout = setTimeout(() => child.kill("SIGTERM"), 60_000);
  try {
    await ready;
  } catch (error) {
    // A server that never got ready leaves nothing behind: its own temporary folder goes too.
    if (!options.dataDir) await fsp.rm(dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    clearTimeout(timeout);
  }

  return {
    baseUrl,
    child,
    output,
    dataDir,
    exited,
    async databaseUrl() {
      if (options.env?.DATABASE_URL) return options.env.DATABASE_URL;
      const credentials = JSON.parse(await fsp.readFile(path.join(dataDir, "postgres.credentials.json"), "utf8")) as { password: string };
      return `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${embeddedPort}/many_futures`;
    },
    stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
