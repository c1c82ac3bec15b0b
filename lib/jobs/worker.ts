// `npm run worker`: runs cluster syncs (scheduled and on demand) and keeps clusters current through watches.
import { startJobWorkers } from "./index";

if (!process.env.DATABASE_URL) {
  console.error("DATABASE_URL is required: the worker uses the application's PostgreSQL database");
  process.exit(1);
}

const starting = startJobWorkers();
let stopping = false;

// Registered before anything else can happen, so a signal during start-up also stops cleanly.
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`keyward worker: ${signal}, finishing the current job`);
  starting
    .then((workers) => workers.stop())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("keyward worker: unclean stop:", error);
        process.exit(1);
      },
    );
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));

await starting;
if (!stopping) console.log("keyward worker: running (Ctrl-C to stop)");
