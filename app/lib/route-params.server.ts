import { z } from "zod";
import { notFound } from "./http.server";

const uuid = z.uuid();

/** A route's id parameter; anything that is not a UUID cannot name a row, so it is a 404 like any unknown id. */
export function requireId(request: Request, value: string | undefined): string {
  const parsed = uuid.safeParse(value);
  if (!parsed.success) throw notFound(request);
  return parsed.data;
}
