// `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded database
// (.keyward/pgdata) when DATABASE_URL is unset.
import { resolveDatabase } from "./embedded";
import { migrate } from "./migrate";

async function main(): Promise<void> {
  const database = await resolveDatabase();
  try {
    console.log(`Migrating ${database.embedded ? "the embedded database" : "DATABASE_URL"}`);
    const { applied, alreadyApplied } = await migrate(database.url, { log: (message) => console.log(message) });
    console.log(`${applied.length} applied, ${alreadyApplied.length} already applied`);
  } finally {
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
