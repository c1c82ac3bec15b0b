// Re-captures fixtures/*.bin from the real kubectl: npx tsx lib/kube-sim/protobuf/capture-fixtures.ts [kubectl]
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isKubernetesProtobuf } from "./index";
import { captureScenario, scenarios } from "./scenarios";

export const fixturesDirectory = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await mkdir(fixturesDirectory, { recursive: true });
  for (const scenario of scenarios) {
    const { run, bodies } = await captureScenario(scenario, process.argv[2]);
    for (const { fixture } of scenario.captures) {
      const captured = bodies.get(fixture);
      if (!captured || !isKubernetesProtobuf(captured.contentType)) {
        throw new Error(
          `kubectl ${scenario.args.join(" ")} sent no protobuf body for ${fixture}: ${run.stderr}`,
        );
      }
      await writeFile(path.join(fixturesDirectory, `${fixture}.bin`), captured.body);
      console.log(`${fixture}.bin  ${captured.body.length} bytes`);
    }
  }
}
