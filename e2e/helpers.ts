import { expect, type Browser, type Page } from "@playwright/test";
import { E2E_PASSWORD } from "../playwright.config";

export const users = {
  admin: "admin@keyward.local",
  security: "security@keyward.local",
  owner: "owner@keyward.local",
  auditor: "auditor@keyward.local",
} as const;
export type DemoRole = keyof typeof users;

export async function signIn(page: Page, role: DemoRole, password = E2E_PASSWORD): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(users[role]);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // scrypt (N=2^17) plus the first render of the overview: slow while both workers load the two cores.
  await expect(page.getByTestId("current-user")).toBeVisible({ timeout: 45_000 });
}

/** A page in a browser context of its own (its own session cookie), signed in as the role. */
export async function signedInPage(browser: Browser, role: DemoRole): Promise<Page> {
  const page = await browser.newPage();
  await signIn(page, role);
  return page;
}
