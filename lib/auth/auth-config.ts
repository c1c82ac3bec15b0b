import type { NextAuthConfig } from "next-auth";
import { userRoleSchema } from "./permissions";

/**
 * The part of the Auth.js configuration that needs no database, shared by the proxy and the full
 * configuration in ./next-auth.ts. Providers are added there; an OIDC provider is one more entry.
 */
export const authConfig = {
  pages: { signIn: "/login" },
  session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
  trustHost: true,
  providers: [],
  callbacks: {
    jwt({ token, user }) {
      if (user?.id) {
        token.uid = user.id;
        token.role = user.role;
      }
      return token;
    },
    session({ session, token }) {
      const role = userRoleSchema.safeParse(token.role);
      if (typeof token.uid === "string" && role.success) {
        session.user.id = token.uid;
        session.user.role = role.data;
      }
      return session;
    },
  },
} satisfies NextAuthConfig;
