// Well-known Kubernetes user and group names (k8s.io/apiserver/pkg/authentication/user and .../serviceaccount).
import type { UserInfo } from "./types";

/** Members are always allowed by kube-apiserver, and may grant any RBAC permission (no escalation check). */
export const SYSTEM_MASTERS = "system:masters";
export const SYSTEM_AUTHENTICATED = "system:authenticated";
export const SYSTEM_UNAUTHENTICATED = "system:unauthenticated";
export const SYSTEM_SERVICE_ACCOUNTS = "system:serviceaccounts";
export const SYSTEM_NODES = "system:nodes";
export const SYSTEM_MONITORING = "system:monitoring";
export const ANONYMOUS_USER = "system:anonymous";
export const SERVICE_ACCOUNT_USERNAME_PREFIX = "system:serviceaccount:";
export const SERVICE_ACCOUNT_GROUP_PREFIX = "system:serviceaccounts:";
export const NODE_USERNAME_PREFIX = "system:node:";
export const RBAC_API_GROUP = "rbac.authorization.k8s.io";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${name}`;
}

/** Like serviceaccount.SplitUsername: null unless the username is a valid `system:serviceaccount:<ns>:<name>`. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | null {
  if (!username.startsWith(SERVICE_ACCOUNT_USERNAME_PREFIX)) return null;
  const parts = username.slice(SERVICE_ACCOUNT_USERNAME_PREFIX.length).split(":");
  if (parts.length !== 2) return null;
  const [namespace, name] = parts;
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) return null;
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) return null;
  return { namespace, name };
}

export function serviceAccountGroups(namespace: string): string[] {
  return [SYSTEM_SERVICE_ACCOUNTS, `${SERVICE_ACCOUNT_GROUP_PREFIX}${namespace}`];
}

/** The user a service account token authenticates as (the authenticator appends system:authenticated). */
export function userInfoForServiceAccount(namespace: string, name: string, uid?: string): UserInfo {
  const user: UserInfo = {
    username: serviceAccountUsername(namespace, name),
    groups: [...serviceAccountGroups(namespace), SYSTEM_AUTHENTICATED],
  };
  if (uid !== undefined) user.uid = uid;
  return user;
}
