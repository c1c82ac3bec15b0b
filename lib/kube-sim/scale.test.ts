import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { startKubeSim } from "./index";

describe("scale", () => {
  it("loads generateScaleCluster(10000) and lists 30k pods quickly", async () => {
    const started = Date.now();
    const sim = await startKubeSim({ scale: 10_000 });
    const loadMs = Date.now() - started;
    try {
      expect(sim.seedReport.loaded).toBeGreaterThan(70_000);
      // A few seconds on an idle machine; generous because CI shares two cores with other test files.
      expect(loadMs).toBeLessThan(30_000);
      const kc = new KubeConfig();
      kc.loadFromString(sim.adminKubeconfig());
      const core = kc.makeApiClient(CoreV1Api);
      const listStarted = Date.now();
      const pods = await core.listPodForAllNamespaces();
      const listMs = Date.now() - listStarted;
      expect(pods.items.length).toBe(sim.list("v1", "Pod").length);
      expect(pods.items.length).toBeGreaterThanOrEqual(30_000);
      expect(listMs).toBeLessThan(15_000); // mostly the client's own JSON and model decoding
      const page = await core.listPodForAllNamespaces({ limit: 500, labelSelector: "" });
      expect(page.items).toHaveLength(500);
      expect(page.metadata?.remainingItemCount).toBe(pods.items.length - 500);
      console.log(`scale 10000: loaded ${sim.seedReport.loaded} objects in ${loadMs} ms, listed ${pods.items.length} pods in ${listMs} ms`);
    } finally {
      await sim.stop();
    }
  });
});
