import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import {
  SYSTEM_AUTHENTICATED,
  SYSTEM_UNAUTHENTICATED,
  ANONYMOUS_USER,
  parseServiceAccountUsername,
  serviceAccountGroups,
  userInfoForServiceAccount,
  type UserInfo,
} from "@/lib/rbac";
import { TYPES, SERVICE_ACCOUNT_TOKEN_TYPE, type Cluster } from "./cluster";
import type { CertificateAuthority } from "./pki";
import { errors } from "./status";
import { newStaticToken, type ServiceAccountTokens } from "./tokens";

export interface Authenticated {
  user: UserInfo;
  /** `JTI=<jti>` for ServiceAccount JWTs, `X509SHA256=<hex>` for client certificates. */
  credentialId?: string;
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(SYSTEM_AUTHENTICATED) ? user : { ...user, groups: [...user.groups, SYSTEM_AUTHENTICATED] };
}

/** Bearer tokens (static and ServiceAccount JWTs) and client certificates, like kube-apiserver's union authenticator. */
export class Authenticator {
  private readonly staticTokens = new Map<string, UserInfo>();
  private readonly certificateCache = new WeakMap<object, Authenticated | null>();

  constructor(
    private readonly ca: CertificateAuthority,
    private readonly tokens: ServiceAccountTokens,
    private readonly cluster: Cluster,
  ) {}

  issueStaticToken(user: { username: string; groups?: string[]; uid?: string }): string {
    const token = newStaticToken();
    this.staticTokens.set(token, withAuthenticatedGroup({ username: user.username, groups: user.groups ?? [], ...(user.uid ? { uid: user.uid } : {}) }));
    return token;
  }

  /** Returns undefined when the request carries no valid credential (answer 401). */
  async authenticate(req: IncomingMessage): Promise<Authenticated | undefined> {
    const fromCertificate = this.authenticateCertificate(req);
    if (fromCertificate) return fromCertificate;
    const header = req.headers.authorization;
    if (header && /^bearer /i.test(header)) return this.authenticateToken(header.slice(7).trim());
    return undefined;
  }

  async authenticateToken(token: string): Promise<Authenticated | undefined> {
    const staticUser = this.staticTokens.get(token);
    if (staticUser) return { user: staticUser };
    const verified = await this.tokens.verify(token);
    if (!verified) return undefined;
    const { serviceAccount: ref, boundObject } = verified;
    const sa = this.cluster.store.get(TYPES.serviceaccounts, ref.namespace, ref.name);
    if (!sa || (ref.uid && sa.metadata.uid !== ref.uid)) return undefined;
    const extra: Record<string, string[]> = {};
    if (verified.legacy) {
      // The token controller's Secret must still exist and still hold this token.
      const secret = boundObject ? this.cluster.store.get(TYPES.secrets, ref.namespace, boundObject.name) : undefined;
      const stored = (secret?.data as Record<string, string> | undefined)?.token;
      if (!secret || secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE || !stored || Buffer.from(stored, "base64").toString() !== token) return undefined;
    } else if (boundObject) {
      const type = boundObject.kind === "Pod" ? TYPES.pods : TYPES.secrets;
      const bound = this.cluster.store.get(type, ref.namespace, boundObject.name);
      if (!bound || (boundObject.uid && bound.metadata.uid !== boundObject.uid)) return undefined;
      if (boundObject.kind === "Pod") {
        extra["authentication.kubernetes.io/pod-name"] = [boundObject.name];
        extra["authentication.kubernetes.io/pod-uid"] = [bound.metadata.uid!];
      }
    }
    const credentialId = verified.jti ? `JTI=${verified.jti}` : undefined;
    if (credentialId) extra["authentication.kubernetes.io/credential-id"] = [credentialId];
    const user = userInfoForServiceAccount(ref.namespace, ref.name, sa.metadata.uid);
    if (Object.keys(extra).length > 0) user.extra = extra;
    return { user, credentialId };
  }

  private authenticateCertificate(req: IncomingMessage): Authenticated | undefined {
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== "function") return undefined;
    const cached = this.certificateCache.get(socket);
    if (cached !== undefined) return cached ?? undefined;
    const peer = socket.getPeerCertificate(false);
    let result: Authenticated | null = null;
    if (peer && peer.raw) {
      const verified = this.ca.verifyClientCertificate(peer.raw);
      if (verified) {
        result = {
          user: withAuthenticatedGroup({ username: verified.identity.username, groups: verified.identity.groups }),
          credentialId: `X509SHA256=${verified.fingerprint}`,
        };
      }
    }
    this.certificateCache.set(socket, result);
    return result ?? undefined;
  }
}

/**
 * Applies `Impersonate-*` headers after checking the `impersonate` verb for each, exactly as
 * kube-apiserver's impersonation filter does. `can` is the authorizer; `deny` builds the 403.
 */
export function impersonate(
  req: IncomingMessage,
  requester: UserInfo,
  can: (attributes: { verb: string; group: string; resource: string; subresource?: string; name: string; namespace?: string }) => boolean,
): UserInfo | undefined {
  const header = (name: string): string[] => {
    const value = req.headers[name];
    if (value === undefined) return [];
    return (Array.isArray(value) ? value : [value]).flatMap((v) => (name === "impersonate-group" ? v.split(",").map((s) => s.trim()) : [v]));
  };
  const username = header("impersonate-user")[0];
  const groups = header("impersonate-group").filter((g) => g !== "");
  const uid = header("impersonate-uid")[0];
  const extraHeaders = Object.keys(req.headers).filter((h) => h.startsWith("impersonate-extra-"));
  if (username === undefined) {
    if (groups.length > 0 || uid !== undefined || extraHeaders.length > 0) {
      throw errors.badRequest("requested impersonation without impersonating a user");
    }
    return undefined;
  }
  const deny = (resource: string, name: string, group = "", namespace?: string) => {
    const scope = namespace ? `in the namespace "${namespace}"` : "at the cluster scope";
    return errors.forbidden({ group, resource }, name, `User "${requester.username}" cannot impersonate resource "${resource}" in API group "${group}" ${scope}`);
  };
  let impersonatedGroups = [...groups];
  const serviceAccount = parseServiceAccountUsername(username);
  if (serviceAccount) {
    if (!can({ verb: "impersonate", group: "", resource: "serviceaccounts", name: serviceAccount.name, namespace: serviceAccount.namespace })) {
      throw deny("serviceaccounts", serviceAccount.name, "", serviceAccount.namespace);
    }
    if (groups.length === 0) impersonatedGroups = serviceAccountGroups(serviceAccount.namespace);
  } else if (!can({ verb: "impersonate", group: "", resource: "users", name: username })) {
    throw deny("users", username);
  }
  for (const group of groups) if (!can({ verb: "impersonate", group: "", resource: "groups", name: group })) throw deny("groups", group);
  if (uid !== undefined && !can({ verb: "impersonate", group: "authentication.k8s.io", resource: "uids", name: uid })) {
    throw deny("uids", uid, "authentication.k8s.io");
  }
  const extra: Record<string, string[]> = {};
  for (const h of extraHeaders) {
    const key = decodeURIComponent(h.slice("impersonate-extra-".length));
    for (const value of header(h)) {
      if (!can({ verb: "impersonate", group: "authentication.k8s.io", resource: "userextras", subresource: key, name: value })) {
        throw deny(`userextras/${key}`, value, "authentication.k8s.io");
      }
      (extra[key] ??= []).push(value);
    }
  }
  if (username === ANONYMOUS_USER) {
    if (!impersonatedGroups.includes(SYSTEM_UNAUTHENTICATED)) impersonatedGroups.push(SYSTEM_UNAUTHENTICATED);
  } else if (!impersonatedGroups.includes(SYSTEM_AUTHENTICATED) && !impersonatedGroups.includes(SYSTEM_UNAUTHENTICATED)) {
    impersonatedGroups.push(SYSTEM_AUTHENTICATED);
  }
  return {
    username,
    groups: impersonatedGroups,
    ...(uid !== undefined ? { uid } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}
