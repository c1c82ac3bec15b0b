import type { ReactNode } from "react";
import { AppShell } from "@/components/layout/app-shell";
import { requireUser } from "@/lib/auth/session";
import { can } from "@/lib/auth/permissions";

// Navigation only: each page still checks the session and its own permission.
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  const nav = [
    { href: "/", label: "Overview", icon: "overview" as const, visible: can(user.role, "inventory:read") },
    { href: "/identities", label: "Inventory", icon: "inventory" as const, visible: can(user.role, "inventory:read") },
    { href: "/campaigns", label: "Campaigns", icon: "campaigns" as const, visible: can(user.role, "campaigns:read") },
    { href: "/reviews", label: "Reviews", icon: "reviews" as const, visible: can(user.role, "campaigns:read") },
    { href: "/clusters", label: "Clusters", icon: "clusters" as const, visible: can(user.role, "clusters:read") },
    { href: "/who-can", label: "Who can", icon: "whoCan" as const, visible: can(user.role, "clusters:read") },
    { href: "/teams", label: "Teams", icon: "teams" as const, visible: can(user.role, "clusters:read") },
    { href: "/audit", label: "Audit trail", icon: "audit" as const, visible: can(user.role, "audit:read") },
    { href: "/admin/users", label: "Users", icon: "users" as const, visible: can(user.role, "users:read") },
    { href: "/admin/tokens", label: "API tokens", icon: "tokens" as const, visible: can(user.role, "tokens:manage") },
  ].filter((item) => item.visible);
  return (
    <AppShell user={{ name: user.name, email: user.email, role: user.role }} nav={nav}>
      {children}
    </AppShell>
  );
}
