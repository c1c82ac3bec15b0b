// A minimal Prisma generator: it receives the official DMMF from `prisma generate` and writes it to
// the generator's `output` path. lib/db/dmmf.ts runs it; @prisma/internals (getDMMF) is not installed.
// Protocol (same as @prisma/generator-helper): JSON-RPC requests as lines on stdin, responses on stderr.
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";

type RpcRequest = { id: number; method: string; params?: unknown };
type GenerateParams = { dmmf: unknown; generator: { output?: { value?: string | null } | null } };

function respond(id: number, result: unknown): void {
  process.stderr.write(`${JSON.stringify({ jsonrpc: "2.0", id, result })}\n`);
}

function respondError(id: number, message: string): void {
  process.stderr.write(`${JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32000, message } })}\n`);
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const request = JSON.parse(line) as RpcRequest;
  if (request.method === "getManifest") {
    respond(request.id, { manifest: { prettyName: "Keyward DMMF capture", requiresEngines: [] } });
  } else if (request.method === "generate") {
    const params = request.params as GenerateParams;
    const outputPath = params.generator.output?.value;
    if (!outputPath) {
      respondError(request.id, "the dmmf generator needs an output path");
      return;
    }
    writeFileSync(outputPath, JSON.stringify(params.dmmf));
    respond(request.id, null);
  } else {
    respondError(request.id, `unknown method ${request.method}`);
  }
});
