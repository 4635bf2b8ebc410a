import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1 that keeps every message it receives, raw, with
 * its headers parsed. `rejectNext` answers the next DATA with a given SMTP reply code.
 */

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** Header names lower-cased; folded lines joined. */
  headers: Map<string, string>;
}

export interface TestSmtpServer {
  url: string;
  messages: ReceivedMail[];
  rejectNext(code: number, message?: string): void;
  close(): Promise<void>;
}

function parseHeaders(raw: string): Map<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? "";
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const rejections: { code: number; message: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const rejection = rejections.shift();
        if (rejection) {
          const error = Object.assign(new Error(rejection.message), { responseCode: rejection.code });
          return callback(error);
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((address) => address.address),
          raw,
          headers: parseHeaders(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    rejectNext: (code, message = "Temporary failure") => rejections.push({ code, message }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
