import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";

// The Remix build and server.ts are bundled apart, each with its own copy of this class, so `instanceof` would
// not see the route's stream: a registered symbol marks it instead.
const EVENT_STREAM_BODY = Symbol.for("many-futures.event-stream-body");
/** What one stream may leave unsent in memory before it is dropped. */
const MAX_UNSENT_BYTES = 1024 * 1024;

function isEventStreamBody(body: unknown): body is EventStreamBody {
  return typeof body === "object" && body !== null && EVENT_STREAM_BODY in body;
}

/**
 * The body of a server-sent event stream, written in whole frames. It is a ReadableStream, so a Response carries
 * it and a test can read it like any other; but the HTTP layer hands it the Node response instead
 * (`attachEventStream`), and from then on each frame goes straight to the socket. A frame is usually one Buffer
 * shared by every watcher of an episode: fanned out to thousands of streams, that is one socket write each, with
 * no per-client encoding, chunk framing, stream pump or promise.
 */
export class EventStreamBody extends ReadableStream<Uint8Array> {
  readonly [EVENT_STREAM_BODY] = true;
  /** Frames written before either reader arrived. */
  private pending: Uint8Array[] = [];
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  private target?: { res: ServerResponse; socket: Socket };
  private ended = false;
  private signal?: AbortSignal;
  private readonly onAbort = () => this.end();

  /**
   * `signal` is the request's: its abort (the client went away) ends the stream until the socket itself is
   * attached. `onEnd` runs once, when the stream ends from either side.
   */
  constructor(
    signal: AbortSignal,
    private readonly onEnd: () => void,
  ) {
    super(
      {
        pull: (controller) => {
          if (this.controller) return;
          this.controller = controller;
          for (const frame of this.pending) controller.enqueue(frame);
          this.pending = [];
          if (this.ended) controller.close();
        },
        cancel: () => this.end(),
      },
      { highWaterMark: 0 },
    );
    if (signal.aborted) {
      this.ended = true;
      return;
    }
    this.signal = signal;
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  private forgetSignal() {
    this.signal?.removeEventListener("abort", this.onAbort);
    this.signal = undefined;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  write(frame: Uint8Array): void {
    if (this.ended) return;
    if (this.target) {
      // A client this far behind is not reading: end it, and its reconnect resumes from Last-Event-ID.
      if (this.target.socket.writableLength > MAX_UNSENT_BYTES) this.end();
      else this.target.socket.write(frame);
    } else if (this.controller) this.controller.enqueue(frame);
    else this.pending.push(frame);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.forgetSignal();
    if (this.target) this.target.res.end();
    else if (this.controller) {
      try {
        this.controller.close();
      } catch {
        // Already cancelled by its reader.
      }
    }
    this.onEnd();
  }

  /**
   * Takes over `res`, whose head has been sent with neither a length nor chunked encoding: the body is every byte
   * until the connection closes, so frames are written to the socket as they are.
   */
  attach(res: ServerResponse, socket: Socket): void {
    // From here the socket says when the client leaves; nothing of the Remix request need stay in memory.
    this.forgetSignal();
    this.target = { res, socket };
    res.on("close", () => this.end());
    for (const frame of this.pending) socket.write(frame);
    this.pending = [];
    if (this.ended) res.end();
  }
}

/**
 * Sends `body` on `res` if it is an event stream, and says whether it did. The head goes out at once (the client
 * knows the stream is open before the first change), delimited by closing the connection, which an event stream
 * ends with anyway; the socket's Nagle delay is off so each frame leaves as it is written.
 */
export function attachEventStream(res: ServerResponse, status: number, headers: Headers, body: ReadableStream | null): boolean {
  if (!isEventStreamBody(body)) return false;
  const socket = res.socket;
  if (!socket) {
    body.end();
    return true;
  }
  res.statusCode = status;
  for (const [key, value] of headers) res.appendHeader(key, value);
  res.removeHeader("Content-Length");
  res.removeHeader("Transfer-Encoding");
  res.setHeader("Connection", "close");
  res.flushHeaders();
  socket.setNoDelay(true);
  body.attach(res, socket);
  return true;
}
