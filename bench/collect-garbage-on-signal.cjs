// Preloaded into the app by the SSE bench (with --expose-gc): SIGUSR2 runs a full garbage collection, so the
// memory per client it reads is what the streams keep, not garbage from opening them that is yet to be collected.
process.on("SIGUSR2", () => globalThis.gc?.());
