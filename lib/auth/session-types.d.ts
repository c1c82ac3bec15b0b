import type { DefaultSession } from "next-auth";
import type { Role } from "./permissions";

declare module "@auth/core/types" {
  interface User {
    role?: Role;
  }
  interface Session {
    user: { id: string; role: Role } & DefaultSession["user"];
  }
}

declare module "@auth/core/jwt" {
  interface JWT {
    uid?: string;
    role?: string;
  }
}
