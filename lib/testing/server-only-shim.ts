// `server-only` throws when imported outside Next's react-server environment; under vitest the code really
// does run on the server, so the guard is replaced by this empty module (see vitest.config.ts).
export {};
