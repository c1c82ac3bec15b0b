// Proves the hand-written migrations give an empty database exactly the schema the Prisma client
// expects (tables, columns, types, nullability, defaults, enums, keys, indexes, foreign keys), in both
// directions, against whichever backend createEmptyDatabase picks (DATABASE_URL or embedded PGlite).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDmmf, type Dmmf } from "./dmmf";
import { migrate } from "./migrate";
import { describeDatabaseSchema, describeExpectedSchema, type SchemaDescription } from "./schema-diff";
import { createEmptyDatabase } from "./testing";

describe("prisma/migrations", () => {
  let database: Awaited<ReturnType<typeof createEmptyDatabase>> | undefined;
  let actual: SchemaDescription;
  let dmmf: Dmmf;

  beforeAll(async () => {
    dmmf = loadDmmf();
    database = await createEmptyDatabase();
    await migrate(database.url);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      actual = await describeDatabaseSchema(client);
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    await database?.drop();
  });

  it("create exactly the schema that schema.prisma describes", () => {
    const expected = describeExpectedSchema(dmmf);
    expect(expected.tables.length).toBeGreaterThan(10);
    // One assertion per aspect so a failure names what drifted.
    expect(actual.tables).toEqual(expected.tables);
    expect(actual.enums).toEqual(expected.enums);
    expect(actual.columns).toEqual(expected.columns);
    expect(actual.indexes).toEqual(expected.indexes);
    expect(actual.foreignKeys).toEqual(expected.foreignKeys);
  });

  it("would catch a field added to schema.prisma without a migration", () => {
    const changed = structuredClone(dmmf);
    const user = changed.datamodel.models.find((model) => model.name === "User");
    const email = user?.fields.find((field) => field.name === "email");
    if (!user || !email) throw new Error("schema.prisma has no User.email");
    user.fields.push({ ...email, name: "nickname", isRequired: false, isUnique: false });
    const expected = describeExpectedSchema(changed);
    expect(expected.columns).toContain("User.nickname text");
    expect(actual.columns).not.toEqual(expected.columns);
  });
});
