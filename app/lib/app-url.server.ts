import { getConfig, type Config } from "./config.server";

/**
 * The app's public origin: APP_URL, or http://localhost:PORT when it is unset (server.ts warns about that in
 * production). Never derived from a request's Host or X-Forwarded-Host, which the client chooses.
 */
export function appOrigin(config: Config = getConfig()): string {
  return config.APP_URL ?? `http://localhost:${config.PORT}`;
}

/** An absolute link to a path of this app, for invitations, emails and anything else read outside the browser. */
export function absoluteUrl(path: string, config: Config = getConfig()): string {
  if (!path.startsWith("/") || path.startsWith("//")) throw new Error(`absoluteUrl needs a path starting with one "/", got ${JSON.stringify(path)}`);
  return new URL(path, appOrigin(config)).toString();
}
