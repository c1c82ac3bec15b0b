import NextAuth from "next-auth";
import { NextResponse } from "next/server";
import { authConfig } from "@/lib/auth/auth-config";

// The proxy only turns away requests without a session (for /api/v1: without a session or a token). Every page,
// action and route checks the session, token and role again itself: this is a first gate, not the authorization.
const { auth } = NextAuth(authConfig);

const PUBLIC_PATHS = ["/login", "/api/auth", "/api/health", "/api/v1/openapi.json"];
const API_V1 = "/api/v1/";

export const proxy = auth((req) => {
  const { pathname } = req.nextUrl;
  if (PUBLIC_PATHS.some((p) => pathname === p || pathname.startsWith(`${p}/`))) return NextResponse.next();
  if (req.auth?.user) return NextResponse.next();
  // API clients carry a token instead of a session: the /api/v1 routes verify it (lib/api/route.ts).
  if (pathname.startsWith(API_V1) && req.headers.has("authorization")) return NextResponse.next();
  if (pathname.startsWith(API_V1)) {
    return NextResponse.json(
      { error: { code: "unauthenticated", message: "Sign in, or send an API token as `Authorization: Bearer kw_…`." } },
      { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="keyward"' } },
    );
  }
  if (pathname.startsWith("/api/")) {
    return NextResponse.json({ error: "unauthenticated" }, { status: 401 });
  }
  const login = new URL("/login", req.nextUrl.origin);
  if (pathname !== "/") login.searchParams.set("callbackUrl", pathname + req.nextUrl.search);
  return NextResponse.redirect(login);
});

export const config = {
  // The audit routes take streamed bodies (a proxy would buffer them and cut them at 10 MB) and check their own
  // credentials: the cluster's ingest token, or a session/API token with clusters:sync.
  matcher: ["/((?!_next/static|_next/image|favicon.ico|keyward.svg|api/v1/clusters/[^/]+/audit(?:/|$)).*)"],
};
