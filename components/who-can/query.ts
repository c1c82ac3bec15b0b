// The who-can form lives in the URL (a GET form), so a question can be bookmarked and shared; this turns the
// search parameters back into a validated query, or says why they are not one.
import { z } from "zod";

const lowerName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** A required verb or resource; the empty case gets its own hint, not the character rule's message. */
const word = (label: string, hint: string) =>
  z
    .string()
    .trim()
    .min(1, hint)
    .max(253)
    .refine(
      (value) => value === "" || value === "*" || lowerName.test(value),
      `${label}: lowercase letters, digits, '.', '-' or *`,
    );

export const whoCanParamsSchema = z.object({
  cluster: z.string().trim().max(64).default(""),
  verb: word("verb", "Name a verb, e.g. get, create, impersonate"),
  group: z
    .string()
    .trim()
    .max(253)
    .refine(
      (value) => value === "" || value === "*" || lowerName.test(value),
      "API group: a DNS name, * or empty for the core group",
    )
    .default(""),
  resource: word("resource", "Name a resource, e.g. secrets, pods"),
  subresource: z
    .string()
    .trim()
    .max(63)
    .refine((value) => value === "" || lowerName.test(value), "subresource: lowercase letters, digits or '-'")
    .default(""),
  namespace: z
    .string()
    .trim()
    .max(63)
    .refine(
      (value) => value === "" || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value),
      "namespace: a namespace name, or empty for cluster-wide",
    )
    .default(""),
});
export type WhoCanParams = z.output<typeof whoCanParamsSchema>;

export type WhoCanForm =
  | { state: "initial"; values: Partial<WhoCanParams> }
  | { state: "invalid"; values: Partial<WhoCanParams>; errors: string[] }
  | {
      state: "query";
      values: WhoCanParams;
      query: {
        clusterId?: string;
        verb: string;
        group: string;
        resource: string;
        subresource?: string;
        namespace?: string;
      };
    };

const fields = ["cluster", "verb", "group", "resource", "subresource", "namespace"] as const;

/**
 * Reads the who-can page's search parameters. No verb and no resource = nothing asked yet. A cluster that is
 * not among `knownClusterIds` is an error rather than an empty answer, which would read as "nobody can".
 */
export function parseWhoCanParams(
  raw: Record<string, string | string[] | undefined>,
  knownClusterIds: readonly string[],
): WhoCanForm {
  const values: Partial<WhoCanParams> = {};
  for (const field of fields) {
    const value = raw[field];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) values[field] = first;
  }
  if (!values.verb?.trim() && !values.resource?.trim()) return { state: "initial", values };
  const parsed = whoCanParamsSchema.safeParse({ verb: "", resource: "", ...values });
  if (!parsed.success)
    return { state: "invalid", values, errors: parsed.error.issues.map((issue) => issue.message) };
  const params = parsed.data;
  if (params.cluster && !knownClusterIds.includes(params.cluster)) {
    return {
      state: "invalid",
      values,
      errors: ["This cluster does not exist (any more): pick one from the list."],
    };
  }
  return {
    state: "query",
    values: params,
    query: {
      ...(params.cluster ? { clusterId: params.cluster } : {}),
      verb: params.verb,
      group: params.group,
      resource: params.resource,
      ...(params.subresource ? { subresource: params.subresource } : {}),
      ...(params.namespace ? { namespace: params.namespace } : {}),
    },
  };
}

/** The page's URL for a question, leaving out empty fields. */
export function whoCanHref(params: Partial<WhoCanParams>): string {
  const search = new URLSearchParams();
  for (const field of fields) {
    const value = params[field];
    if (value) search.set(field, value);
  }
  const query = search.toString();
  return query ? `/who-can?${query}` : "/who-can";
}

/** How the question reads in the page's heading: "get secrets cluster-wide", "create pods/exec in default". */
export function describeQuestion(
  params: Pick<WhoCanParams, "verb" | "group" | "resource" | "subresource" | "namespace">,
): string {
  const resource = `${params.resource}${params.subresource ? `/${params.subresource}` : ""}${params.group ? ` (${params.group})` : ""}`;
  return `${params.verb} ${resource} ${params.namespace ? `in namespace ${params.namespace}` : "cluster-wide"}`;
}

export const exampleQuestions: { label: string; params: Partial<WhoCanParams> }[] = [
  { label: "Who can read secrets cluster-wide?", params: { verb: "get", resource: "secrets" } },
  {
    label: "Who can create pods in kube-system?",
    params: { verb: "create", resource: "pods", namespace: "kube-system" },
  },
  {
    label: "Who can exec into pods in default?",
    params: { verb: "create", resource: "pods", subresource: "exec", namespace: "default" },
  },
  { label: "Who can impersonate users?", params: { verb: "impersonate", resource: "users" } },
];
