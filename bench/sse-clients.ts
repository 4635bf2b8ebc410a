// A child process of the SSE bench: holds `count` event streams open on raw sockets and notes, by the
// machine-wide monotonic clock, when each one receives each event id. Driven by the parent over IPC.
import net from "node:net";

interface Start {
  type: "start";
  port: number;
  cookie: string;
  /** One episode id per client. */
  episodes: string[];
}
interface Collect {
  type: "collect";
  /** Episode id → the version every client of that episode must have received. */
  versions: Record<string, number>;
}
type Command = Start | Collect | { type: "close" };

interface Client {
  episodeId: string;
  socket: net.Socket;
  buffer: string;
  /** Version → when it arrived (ms on the monotonic clock). */
  received: Map<number, number>;
  closed: boolean;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const clients: Client[] = [];
const send = (message: unknown) => {
  if (process.connected) process.send!(message);
};
let waiting: (() => void) | undefined;

function openClient(port: number, cookie: string, episodeId: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client: Client = { episodeId, socket: net.connect(port, "127.0.0.1"), buffer: "", received: new Map(), closed: false };
    client.socket.setNoDelay(true);
    client.socket.setEncoding("utf8");
    client.socket.on("connect", () => {
      client.socket.write(
        `GET /episodes/${episodeId}/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\nCookie: ${cookie}\r\n\r\n`,
      );
    });
    client.socket.on("data", (chunk: string) => {
      const at = nowMs();
      client.buffer += chunk;
      if (!client.received.size && client.buffer.startsWith("HTTP/1.1 ") && !client.buffer.startsWith("HTTP/1.1 200")) {
        reject(new Error(`event stream refused: ${client.buffer.split("\r\n")[0]}`));
      }
      for (const match of client.buffer.matchAll(/^id: (\d+)$/gm)) {
        const version = Number(match[1]);
        if (!client.received.has(version)) client.received.set(version, at);
        resolve(client);
      }
      client.buffer = client.buffer.slice(client.buffer.lastIndexOf("\n") + 1);
      waiting?.();
    });
    client.socket.on("error", reject);
    client.socket.on("close", () => {
      client.closed = true;
      reject(new Error("event stream closed before its first event"));
    });
  });
}

/** A refused or reset connection (a full accept queue on a loaded machine) is tried again a few times. */
async function openWithRetry(port: number, cookie: string, episodeId: string): Promise<Client> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openClient(port, cookie, episodeId);
    } catch (error) {
      if (attempt >= 5 || !/ECONNRESET|ECONNREFUSED|closed before/.test((error as Error).message)) throw error;
      retries++;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

let retries = 0;

async function start(command: Start) {
  // A few dozen at a time per process: the app answers each with a session check, and a flood overflows its backlog.
  const inFlight = 50;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, command.episodes.length) }, async () => {
      while (next < command.episodes.length) {
        const episodeId = command.episodes[next++];
        clients.push(await openWithRetry(command.port, command.cookie, episodeId));
      }
    }),
  );
  send({ type: "started", clients: clients.length, retries });
}

async function collect(command: Collect) {
  const missing = () =>
    clients.filter((client) => {
      const version = command.versions[client.episodeId];
      return version !== undefined && !client.received.has(version) && !client.closed;
    }).length;
  const deadline = nowMs() + 30_000;
  while (missing() && nowMs() < deadline) await new Promise<void>((resolve) => ((waiting = resolve), setTimeout(resolve, 50)));
  waiting = undefined;
  const arrivals: { episodeId: string; at: number | null }[] = [];
  for (const client of clients) {
    const version = command.versions[client.episodeId];
    if (version !== undefined) arrivals.push({ episodeId: client.episodeId, at: client.received.get(version) ?? null });
  }
  send({ type: "collected", arrivals });
}

process.on("message", (command: Command) => {
  if (command.type === "start") void start(command).catch((error: Error) => send({ type: "error", message: error.message }));
  if (command.type === "collect") void collect(command);
  if (command.type === "close") {
    clients.forEach((client) => client.socket.destroy());
    process.disconnect();
  }
});
