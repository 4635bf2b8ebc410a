import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";

export interface ManifestRoute {
  id: string;
  /** The full URL pattern, such as `/projects/:projectId/settings`. */
  pattern: string;
  /** The names of its dynamic segments, in order (`*` for a splat). */
  params: string[];
  hasAction: boolean;
  hasLoader: boolean;
  /** A resource route (no component): answers JSON or another format, never a page. */
  isResource: boolean;
}

/**
 * Every route of the built app (`npm run build`), read from the route manifest, so suites that must cover
 * "every route" cover a new one without being edited.
 */
export async function readRouteManifest(buildPath = "build/index.js"): Promise<ManifestRoute[]> {
  const build = (await import(pathToFileURL(path.resolve(buildPath)).href)) as ServerBuild;
  const fullPath = (id: string): string => {
    const route = build.routes[id];
    if (!route) return "";
    const own = route.path ?? "";
    const parent = route.parentId ? fullPath(route.parentId) : "";
    return [parent, own].filter(Boolean).join("/");
  };
  return Object.values(build.routes)
    .filter((route) => route.id !== "root")
    .map((route) => {
      const pattern = `/${fullPath(route.id)}`.replace(/\/+/g, "/");
      const params = pattern
        .split("/")
        .filter((segment) => segment.startsWith(":") || segment === "*")
        .map((segment) => (segment === "*" ? "*" : segment.slice(1)));
      return {
        id: route.id,
        pattern,
        params,
        hasAction: typeof route.module.action === "function",
        hasLoader: typeof route.module.loader === "function",
        isResource: typeof route.module.default !== "function",
      };
    })
    .sort((a, b) => a.pattern.localeCompare(b.pattern));
}

/** Fills a pattern's dynamic segments from `values` (a missing one is an error, so a new parameter is noticed). */
export function fillPattern(route: ManifestRoute, values: Record<string, string>): string {
  return route.pattern.replace(/:([A-Za-z0-9_]+)|\*/g, (match, name: string | undefined) => {
    const key = name ?? "*";
    const value = values[key];
    if (value === undefined) throw new Error(`No value for ${match} in ${route.pattern}: add one for this route's parameter`);
    return encodeURIComponent(value);
  });
}
