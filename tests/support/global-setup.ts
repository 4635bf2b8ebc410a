import type { TestProject } from "vitest/node";
import { startTestPostgres } from "./postgres-server";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startTestPostgres();
  project.provide("adminDatabaseUrl", server.adminUrl);
  project.provide("templateDatabase", server.templateDatabase);
  return () => server.stop();
}
