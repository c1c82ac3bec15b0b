import { defineConfig } from "prisma/config";

// The URL comes from process.env rather than prisma's env(), which throws when the variable is
// missing: `prisma generate` (postinstall, CI) must work without a database.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL },
});
