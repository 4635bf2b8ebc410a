import type { TestProject } from "vitest/node";
import { startPgBouncer } from "./pgbouncer";
import { startTestPostgres } from "./postgres-server";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
    /** host:port of a transaction-mode PgBouncer in front of the test server (see throughPooler). */
    poolerAddress: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startTestPostgres();
  const pooler = await startPgBouncer(server.adminUrl).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  project.provide("adminDatabaseUrl", server.adminUrl);
  project.provide("templateDatabase", server.templateDatabase);
  project.provide("poolerAddress", pooler.address);
  return async () => {
    await pooler.stop();
    await server.stop();
  };
}
