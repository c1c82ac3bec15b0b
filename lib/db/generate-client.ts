// `npm run db:generate` (and postinstall): generates the Prisma client into lib/db/generated/prisma.
import { runPrismaGenerate } from "./prisma-cli";

process.exitCode = runPrismaGenerate(process.argv.slice(2)).status;
