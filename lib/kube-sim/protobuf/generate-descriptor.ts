// Builds descriptor.generated.json (a protobufjs JSON descriptor) from the trimmed .proto files in proto/.
// The decoder loads the JSON so that it needs neither the .proto parser nor file access at run time.
// Run after editing a .proto file: npx tsx lib/kube-sim/protobuf/generate-descriptor.ts
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "prettier";
import protobuf from "protobufjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const protoDirectory = path.join(here, "proto");
export const descriptorPath = path.join(here, "descriptor.generated.json");

/** The descriptor as it should be committed, serialized. */
export async function buildDescriptorJson(): Promise<string> {
  const root = new protobuf.Root();
  const files = (await readdir(protoDirectory)).filter((name) => name.endsWith(".proto")).sort();
  for (const file of files) {
    // keepCase: field names are the Go json names (e.g. `apiVersion`, `uID`), not camel-cased copies.
    protobuf.parse(await readFile(path.join(protoDirectory, file), "utf8"), root, { keepCase: true });
  }
  root.resolveAll(); // fails on any reference to a message that was trimmed away
  // Formatted as the repository formats JSON, so `prettier --check` passes on the committed file.
  return format(JSON.stringify(root.toJSON()), { parser: "json" });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await writeFile(descriptorPath, await buildDescriptorJson());
  console.log(`wrote ${path.relative(process.cwd(), descriptorPath)}`);
}
