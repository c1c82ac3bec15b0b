// Runs the Prisma CLI without its native schema engine. The Prisma 7 CLI insists on finding the
// schema-engine binary before `generate` (and tries to download it, which fails off-line), although
// generation itself only uses WASM. Pointing PRISMA_SCHEMA_ENGINE_BINARY at a stub that exits 1
// satisfies the check; the stub is never run by `generate`.
import { spawnSync, type StdioOptions } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

function createEngineStub(dir: string): string {
  const stubPath = path.join(dir, "schema-engine-stub");
  writeFileSync(stubPath, "#!/bin/sh\necho 'the native Prisma schema engine is not available here' >&2\nexit 1\n");
  chmodSync(stubPath, 0o755);
  return stubPath;
}

export function runPrismaGenerate(
  args: string[],
  options: { cwd?: string; stdio?: StdioOptions } = {},
): { status: number; output: string } {
  const stubDir = mkdtempSync(path.join(tmpdir(), "keyward-prisma-"));
  try {
    const prismaCli = path.join(repoRoot, "node_modules", "prisma", "build", "index.js");
    const result = spawnSync(process.execPath, [prismaCli, "generate", ...args], {
      cwd: options.cwd ?? repoRoot,
      stdio: options.stdio ?? "inherit",
      encoding: "utf8",
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: createEngineStub(stubDir),
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
        CHECKPOINT_DISABLE: "1",
      },
    });
    if (result.error) throw result.error;
    return { status: result.status ?? 1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
  } finally {
    rmSync(stubDir, { recursive: true, force: true });
  }
}
