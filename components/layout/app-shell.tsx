import Link from "next/link";
import type { ReactNode } from "react";
import { ClipboardCheck, Fingerprint, Inbox, KeyRound, KeySquare, LayoutDashboard, LogOut, ScrollText, Server, ShieldQuestion, Users, UsersRound } from "lucide-react";
import { signOutAction } from "@/app/(dashboard)/actions";
import { roleLabels, type Role } from "@/lib/auth/permissions";
import { NavLink } from "./nav-link";

const icons = {
  overview: LayoutDashboard,
  inventory: Fingerprint,
  clusters: Server,
  whoCan: ShieldQuestion,
  teams: UsersRound,
  campaigns: ClipboardCheck,
  reviews: Inbox,
  audit: ScrollText,
  users: Users,
  tokens: KeySquare,
};

export interface NavItem {
  href: string;
  label: string;
  icon: keyof typeof icons;
}

export function AppShell({
  user,
  nav,
  children,
}: {
  user: { name: string; email: string; role: Role };
  nav: NavItem[];
  children: ReactNode;
}) {
  return (
    <div className="flex min-h-screen">
      <aside className="flex w-60 shrink-0 flex-col bg-slate-900 text-slate-200">
        <Link href="/" className="flex items-center gap-2 px-5 py-5 text-white">
          <KeyRound className="h-6 w-6 text-brand-500" aria-hidden />
          <span className="text-lg font-semibold tracking-tight">Keyward</span>
        </Link>
        <nav aria-label="Main" className="flex-1 space-y-1 px-3">
          {nav.map((item) => {
            const Icon = icons[item.icon];
            return (
              <NavLink key={item.href} href={item.href}>
                <Icon className="h-4 w-4" aria-hidden />
                {item.label}
              </NavLink>
            );
          })}
        </nav>
        <div className="border-t border-slate-800 px-5 py-4 text-sm">
          <p className="font-medium text-white" data-testid="current-user">
            {user.name}
          </p>
          <p className="truncate text-xs text-slate-400">{user.email}</p>
          <p className="mt-1 inline-block rounded bg-slate-800 px-1.5 py-0.5 text-xs text-slate-300" data-testid="current-role">
            {roleLabels[user.role]}
          </p>
          <form action={signOutAction} className="mt-3">
            <button type="submit" className="flex items-center gap-1.5 text-xs text-slate-400 hover:text-white">
              <LogOut className="h-3.5 w-3.5" aria-hidden /> Sign out
            </button>
          </form>
        </div>
      </aside>
      <main className="min-w-0 flex-1 p-8">{children}</main>
    </div>
  );
}
