// What the rest of the app imports as "@/lib/db": the shared client, and the generated model types,
// enums and `Prisma` namespace. The migrator and the embedded server are separate entry points
// ("@/lib/db/migrate", "@/lib/db/embedded") so that app code does not pull in PGlite.
export { createPrismaClient, getPrisma, prisma, sqlPoolOf } from "./client";
export * from "./generated/prisma/client";
