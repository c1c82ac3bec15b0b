// Reads the official DMMF (Prisma's own parse of schema.prisma) by running `prisma generate` on a
// copy of the schema whose only generator is lib/db/dmmf-generator.ts. Used by the test that proves
// the hand-written migrations give the database the Prisma client expects.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot, runPrismaGenerate } from "./prisma-cli";

export type DmmfField = {
  name: string;
  kind: "scalar" | "object" | "enum" | "unsupported";
  type: string;
  dbName: string | null;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
};

export type DmmfModel = {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
  uniqueFields: string[][];
  uniqueIndexes: { name: string | null; fields: string[] }[];
};

export type DmmfIndex = {
  model: string;
  type: "id" | "normal" | "unique" | "fulltext";
  isDefinedOnField: boolean;
  name?: string;
  dbName?: string;
  fields: { name: string; sortOrder?: "asc" | "desc" }[];
};

export type Dmmf = {
  datamodel: {
    models: DmmfModel[];
    enums: { name: string; dbName: string | null; values: { name: string; dbName: string | null }[] }[];
    indexes: DmmfIndex[];
  };
};

const defaultSchemaPath = path.join(repoRoot, "prisma", "schema.prisma");

export function loadDmmf(schemaPath: string = defaultSchemaPath): Dmmf {
  const workDir = mkdtempSync(path.join(tmpdir(), "keyward-dmmf-"));
  try {
    const outputPath = path.join(workDir, "dmmf.json");
    const generatorScript = path.join(repoRoot, "lib", "db", "dmmf-generator.ts");
    const tsxLoader = path.join(repoRoot, "node_modules", "tsx", "dist", "esm", "index.mjs");
    const schemaWithoutGenerators = readFileSync(schemaPath, "utf8").replace(/^generator\s+\w+\s*\{[^}]*\}/gm, "");
    const captureGenerator = [
      "generator dmmf {",
      `  provider = ${JSON.stringify(`"${process.execPath}" --import "${tsxLoader}" "${generatorScript}"`)}`,
      `  output   = ${JSON.stringify(outputPath)}`,
      "}",
    ].join("\n");
    const tempSchemaPath = path.join(workDir, "schema.prisma");
    writeFileSync(tempSchemaPath, `${captureGenerator}\n${schemaWithoutGenerators}`);
    // An empty config in the work dir keeps the project's prisma.config.ts (and its schema path) out.
    writeFileSync(path.join(workDir, "prisma.config.ts"), "export default {};\n");
    const result = runPrismaGenerate(["--schema", tempSchemaPath], { cwd: workDir, stdio: "pipe" });
    if (result.status !== 0) throw new Error(`prisma generate (DMMF capture) failed:\n${result.output}`);
    return JSON.parse(readFileSync(outputPath, "utf8")) as Dmmf;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
