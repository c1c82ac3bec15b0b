/** A Kubernetes object as the simulator stores and serves it (JSON shape). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
    generateName?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}
