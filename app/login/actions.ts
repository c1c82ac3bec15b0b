"use server";

import { AuthError } from "next-auth";
import { signIn } from "@/lib/auth/next-auth";

export interface SignInState {
  error?: string;
}

/** Only same-site paths: a callback URL must never send a signed-in user to another origin. */
function safeCallback(raw: FormDataEntryValue | null): string {
  const value = typeof raw === "string" ? raw : "";
  return value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : "/";
}

export async function signInWithPassword(_prev: SignInState, form: FormData): Promise<SignInState> {
  try {
    await signIn("credentials", {
      email: form.get("email"),
      password: form.get("password"),
      redirectTo: safeCallback(form.get("callbackUrl")),
    });
    return {};
  } catch (err) {
    // A successful sign-in "throws" Next's redirect, which must propagate.
    if (err instanceof AuthError) return { error: "Wrong e-mail or password." };
    throw err;
  }
}
