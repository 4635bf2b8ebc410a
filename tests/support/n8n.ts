import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports";

/**
 * A throw-away n8n (the version installed by scripts/test-n8n.sh) on 127.0.0.1, with its own user folder, the
 * given credentials and workflow imported and activated the way docs/n8n.md tells an operator to.
 */

const run = promisify(execFile);

export const N8N_VERSION = "1.123.81";

export function n8nBinary(): string {
  return (
    process.env.N8N_BIN ??
    path.join(process.env.N8N_CACHE_DIR ?? path.join(os.homedir(), ".cache", "many-futures", `n8n-${N8N_VERSION}`), "node_modules", ".bin", "n8n")
  );
}

export interface N8nInstance {
  baseUrl: string;
  /** Production webhook URL of `webhookPath`. */
  webhookUrl: string;
  /** Everything n8n printed. */
  output: string[];
  stop(): Promise<void>;
}

export interface N8nOptions {
  workflowFile: string;
  workflowId: string;
  webhookPath: string;
  credentials: { id: string; name: string; type: string; data: Record<string, unknown> }[];
  /** The environment the workflow sees as $env (secrets, model settings). */
  env: Record<string, string>;
  port?: number;
}

export async function startN8n(options: N8nOptions): Promise<N8nInstance> {
  const bin = n8nBinary();
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), "mf-n8n-"));
  const port = options.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: "production",
    PATH: process.env.PATH ?? "",
    HOME: folder,
    N8N_USER_FOLDER: folder,
    N8N_LISTEN_ADDRESS: "127.0.0.1",
    N8N_PORT: String(port),
    N8N_ENCRYPTION_KEY: `test-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    // n8n 1.123 on Node 20: the vm expression engine needs isolated-vm (Node ≥ 22), task runners a second process.
    N8N_EXPRESSION_ENGINE: "legacy",
    N8N_RUNNERS_ENABLED: "false",
    N8N_DIAGNOSTICS_ENABLED: "false",
    N8N_VERSION_NOTIFICATIONS_ENABLED: "false",
    N8N_TEMPLATES_ENABLED: "false",
    N8N_PERSONALIZATION_ENABLED: "false",
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: "false",
    DB_SQLITE_POOL_SIZE: "2",
    // What the shipped workflow needs (docs/n8n.md).
    NODE_FUNCTION_ALLOW_BUILTIN: "crypto",
    N8N_BLOCK_ENV_ACCESS_IN_NODE: "false",
    ...options.env,
  };
  const cli = (...args: string[]) => run(bin, args, { env, maxBuffer: 16 * 1024 * 1024 });

  const credentialsFile = path.join(folder, "credentials.json");
  await fs.writeFile(credentialsFile, JSON.stringify(options.credentials));
  const workflowDir = path.join(folder, "workflows");
  await fs.mkdir(workflowDir);
  await fs.copyFile(options.workflowFile, path.join(workflowDir, path.basename(options.workflowFile)));
  // The first command also creates n8n's database; the commands cannot run at once.
  await cli("import:credentials", `--input=${credentialsFile}`);
  await fs.rm(credentialsFile);
  await cli("import:workflow", "--separate", `--input=${workflowDir}`);
  await cli("update:workflow", `--id=${options.workflowId}`, "--active=true");

  const output: string[] = [];
  const child: ChildProcess = spawn(bin, ["start"], { env, stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout!, child.stderr!]) stream.on("data", (chunk: Buffer) => output.push(...chunk.toString().split("\n")));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const baseUrl = `http://127.0.0.1:${port}`;
  const webhookUrl = `${baseUrl}/webhook/${options.webhookPath}`;
  const stop = async () => {
    if (!gone) child.kill("SIGTERM");
    await exited;
    await fs.rm(folder, { recursive: true, force: true });
  };

  // /healthz answers long before production webhooks register; ask the webhook itself. A GET to a POST webhook
  // says so once it is registered ("Did you mean to make a POST request?"), and runs nothing.
  try {
    for (;;) {
      if (gone) throw new Error(`n8n exited before its webhook registered:\n${output.join("\n")}`);
      const text = await fetch(webhookUrl).then(
        (response) => response.text(),
        () => "",
      );
      if (text.includes("Did you mean to make a POST request")) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, webhookUrl, output, stop };
}
