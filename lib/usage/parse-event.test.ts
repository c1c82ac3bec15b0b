import { describe, expect, it } from "vitest";
import { auditEventSchema, parseAuditEvent, parseRfc3339 } from "./parse-event";

const base = () => ({
  kind: "Event",
  apiVersion: "audit.k8s.io/v1",
  level: "Metadata",
  auditID: "7f1c2a9e-0000-4000-8000-000000000001",
  stage: "ResponseComplete",
  requestURI: "/api/v1/namespaces/ci/secrets/deploy-key?resourceVersion=0",
  verb: "get",
  user: {
    username: "system:serviceaccount:ci:deployer",
    uid: "u-1",
    groups: ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"],
    extra: { "authentication.kubernetes.io/credential-id": ["JTI=3f6d1c"] },
  },
  sourceIPs: ["10.1.2.3"],
  userAgent: "deployer/1.0",
  objectRef: { resource: "secrets", namespace: "ci", name: "deploy-key", apiVersion: "v1" },
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: "2026-11-30T10:00:00.123456Z",
  stageTimestamp: "2026-11-30T10:00:00.223456Z",
  annotations: { "authorization.k8s.io/decision": "allow" },
});

const reason = (value: unknown) => {
  const parsed = parseAuditEvent(value);
  return parsed.ok ? "accepted" : parsed.reason;
};

describe("parseAuditEvent", () => {
  it("reduces a valid event to its usage, attributed to the service account and its credential", () => {
    const parsed = parseAuditEvent(base());
    expect(parsed).toEqual({
      ok: true,
      event: {
        auditId: "7f1c2a9e-0000-4000-8000-000000000001",
        username: "system:serviceaccount:ci:deployer",
        verb: "get",
        apiGroup: "",
        resource: "secrets",
        subresource: "",
        namespace: "ci",
        name: "deploy-key",
        path: "",
        userAgent: "deployer/1.0",
        sourceIps: ["10.1.2.3"],
        credentialRef: "JTI=3f6d1c",
        at: new Date("2026-11-30T10:00:00.123Z"),
        denied: false,
      },
    });
  });

  it("rejects each policy violation with its reason", () => {
    const without = (field: string) => {
      const event: Record<string, unknown> = base();
      delete event[field];
      return event;
    };
    expect(reason("text")).toBe("not an object");
    expect(reason([base()])).toBe("not an object");
    expect(reason(null)).toBe("not an object");
    expect(reason({ ...base(), kind: "EventList" })).toMatch(/^not an audit\.k8s\.io\/v1 Event/);
    expect(reason({ ...base(), apiVersion: "audit.k8s.io/v1beta1" })).toMatch(
      /^not an audit\.k8s\.io\/v1 Event/,
    );
    expect(reason({ ...base(), cluster: "prod" })).toBe("unknown field cluster");
    expect(reason(without("auditID"))).toBe("missing auditID");
    expect(reason({ ...base(), auditID: "" })).toBe("missing auditID");
    expect(reason(without("verb"))).toBe("missing verb");
    expect(reason({ ...base(), verb: "" })).toBe("missing verb");
    expect(reason({ ...base(), user: { groups: ["system:authenticated"] } })).toBe("missing user.username");
    expect(reason(without("user"))).toBe("missing user.username");
    const { requestReceivedTimestamp: _r, stageTimestamp: _s, ...timeless } = base();
    expect(reason(timeless)).toBe("missing timestamp");
    expect(reason({ ...base(), requestReceivedTimestamp: "2022-11-29 00:09:04.38" })).toBe(
      'bad timestamp "2022-11-29 00:09:04.38" in requestReceivedTimestamp',
    );
    expect(reason({ ...base(), stageTimestamp: "2026-02-30T00:00:00Z" })).toBe(
      'bad timestamp "2026-02-30T00:00:00Z" in stageTimestamp',
    );
    // Anything else the schema refuses is named by its path.
    expect(reason({ ...base(), sourceIPs: [42] })).toMatch(/^sourceIPs\.0: /);
    expect(reason({ ...base(), responseStatus: { code: "200" } })).toMatch(/^responseStatus\.code: /);
  });

  it("accepts v1beta1's legacy metadata and timestamp, as old logs (audit2rbac) carry them", () => {
    const { requestReceivedTimestamp: _r, stageTimestamp: _s, ...rest } = base();
    const parsed = parseAuditEvent({
      ...rest,
      metadata: { creationTimestamp: "2017-09-11T19:55:05Z" },
      timestamp: "2017-09-11T19:55:05Z",
    });
    expect(parsed.ok && parsed.event.at).toEqual(new Date("2017-09-11T19:55:05Z"));
  });

  it("impersonation: the impersonated user is the identity, the credential stays the impersonator's", () => {
    const parsed = parseAuditEvent({
      ...base(),
      user: {
        username: "alice",
        extra: { "authentication.kubernetes.io/credential-id": ["X509SHA256=AB12"] },
      },
      impersonatedUser: { username: "system:serviceaccount:ci:deployer", groups: ["system:serviceaccounts"] },
    });
    expect(parsed.ok && parsed.event).toMatchObject({
      username: "system:serviceaccount:ci:deployer",
      impersonatedBy: "alice",
      credentialRef: "X509SHA256=AB12",
    });
  });

  it("non-resource requests keep their path without the query; refusals are denied", () => {
    const { objectRef: _o, ...rest } = base();
    const parsed = parseAuditEvent({
      ...rest,
      requestURI: "/healthz?verbose=1",
      responseStatus: { code: 403 },
    });
    expect(parsed.ok && parsed.event).toMatchObject({ path: "/healthz", resource: "", denied: true });
    const forbidden = parseAuditEvent({
      ...base(),
      annotations: { "authorization.k8s.io/decision": "forbid" },
    });
    expect(forbidden.ok && forbidden.event.denied).toBe(true);
    const unauthorized = parseAuditEvent({ ...base(), responseStatus: { code: 401 } });
    expect(unauthorized.ok && unauthorized.event.denied).toBe(true);
  });

  it("stages of one request share the audit ID (the ingester counts them once)", () => {
    const received = parseAuditEvent({ ...base(), stage: "RequestReceived", responseStatus: undefined });
    const complete = parseAuditEvent(base());
    expect(received.ok && complete.ok && received.event.auditId === complete.event.auditId).toBe(true);
  });

  it("strings Postgres cannot store (NUL, lone surrogates) are replaced, not fatal", () => {
    const parsed = parseAuditEvent({ ...base(), userAgent: "evil\u0000agent\ud800" });
    expect(parsed.ok && parsed.event.userAgent).toBe("evil\uFFFDagent\uFFFD");
  });

  it("the fast path accepts only what the zod schema accepts (the schema is the definition)", () => {
    const values: unknown[] = [
      1,
      "x",
      null,
      [],
      {},
      "",
      2 ** 60,
      1.5,
      { a: 1 },
      ["a"],
      [1],
      "x".repeat(600),
      "x".repeat(5000),
      true,
    ];
    const paths = [
      ["kind"],
      ["apiVersion"],
      ["level"],
      ["auditID"],
      ["stage"],
      ["requestURI"],
      ["verb"],
      ["user"],
      ["user", "username"],
      ["user", "groups"],
      ["user", "extra"],
      ["user", "extra", "authentication.kubernetes.io/credential-id"],
      ["user", "uid"],
      ["impersonatedUser"],
      ["impersonatedUser", "username"],
      ["sourceIPs"],
      ["userAgent"],
      ["objectRef"],
      ["objectRef", "name"],
      ["objectRef", "resource"],
      ["objectRef", "namespace"],
      ["responseStatus"],
      ["responseStatus", "code"],
      ["annotations"],
      ["annotations", "authorization.k8s.io/decision"],
      ["requestReceivedTimestamp"],
      ["stageTimestamp"],
      ["timestamp"],
      ["metadata"],
    ];
    let checked = 0;
    for (const path of paths) {
      for (const value of [...values, undefined]) {
        const event = base() as Record<string, unknown>;
        let target = event;
        for (const key of path.slice(0, -1)) {
          target[key] = { ...(target[key] as object) } as Record<string, unknown>;
          target = target[key] as Record<string, unknown>;
        }
        if (value === undefined) delete target[path.at(-1)!];
        else target[path.at(-1)!] = value;
        expect(parseAuditEvent(event).ok, `${path.join(".")} = ${JSON.stringify(value)?.slice(0, 20)}`).toBe(
          auditEventSchema.safeParse(event).success,
        );
        checked++;
      }
    }
    expect(checked).toBe(paths.length * (values.length + 1));
  });
});

describe("parseRfc3339", () => {
  it.each([
    ["2026-11-30T10:00:00Z", "2026-11-30T10:00:00.000Z"],
    ["2026-11-30T10:00:00.5+02:00", "2026-11-30T08:00:00.500Z"],
    ["2024-02-29T23:59:59.999999999-05:30", "2024-03-01T05:29:59.999Z"],
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"],
  ])("%s is %s", (text, iso) => expect(parseRfc3339(text)?.toISOString()).toBe(iso));

  it.each([
    "2022-11-29 00:09:04.38",
    "2023-02-29T00:00:00Z",
    "2026-11-30T24:00:00Z",
    "2026-11-30T10:00:00",
    "2026-11-30t10:00:00Z",
    "2026-11-30T10:00:00.Z",
    "2026-11-30T10:00:00.1234567890Z",
    "2026-11-30T10:00:00+2:00",
    "1669680544",
  ])("%s is not RFC 3339", (text) => expect(parseRfc3339(text)).toBeUndefined());
});
