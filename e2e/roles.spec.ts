import { expect, test } from "@playwright/test";
import { signIn, type DemoRole } from "./helpers";

// Which roles may open which page; every other role must get a real 403.
const pages: { path: string; allowed: DemoRole[]; marker: string }[] = [
  { path: "/clusters", allowed: ["admin", "security", "auditor"], marker: "Sync history" },
  { path: "/audit", allowed: ["admin", "security", "auditor"], marker: "Latest 100 entries" },
  { path: "/admin/users", allowed: ["admin"], marker: "People who can sign in" },
];
const roles: DemoRole[] = ["admin", "security", "owner", "auditor"];

for (const role of roles) {
  test(`${role}: every page answers as the role allows`, async ({ page }) => {
    await signIn(page, role);
    for (const p of pages) {
      const response = await page.goto(p.path);
      if (p.allowed.includes(role)) {
        expect(response?.status(), `${role} ${p.path}`).toBe(200);
        await expect(page.getByText(p.marker).first()).toBeVisible();
      } else {
        expect(response?.status(), `${role} ${p.path}`).toBe(403);
        await expect(page.getByRole("heading", { name: "403 · Not allowed" })).toBeVisible();
        await expect(page.getByText(p.marker)).toHaveCount(0);
      }
    }
    // Navigation shows only what the role may open.
    await page.goto("/");
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const p of pages) {
      await expect(nav.locator(`a[href="${p.path}"]`)).toHaveCount(p.allowed.includes(role) ? 1 : 0);
    }
  });
}
