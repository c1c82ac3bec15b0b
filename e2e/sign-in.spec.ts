import { expect, test } from "@playwright/test";
import { signIn, users } from "./helpers";

test("a visitor without a session is sent to the sign-in page", async ({ page }) => {
  const response = await page.goto("/clusters");
  expect(response?.url()).toContain("/login");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});

test("API routes answer 401 without a session instead of redirecting", async ({ request }) => {
  const response = await request.get("/api/v1/identities", { maxRedirects: 0 });
  expect(response.status()).toBe(401);
});

test("a wrong password is refused with a clear message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(users.admin);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form").getByRole("alert")).toHaveText("Wrong e-mail or password.");
  await expect(page).toHaveURL(/\/login/);
});

for (const role of ["admin", "security", "auditor"] as const) {
  test(`${role} signs in and sees the simulated cluster's identities from the database`, async ({ page }) => {
    await signIn(page, role);
    await expect(page.getByTestId("current-role")).toBeVisible();
    expect(Number(await page.getByTestId("identity-total").innerText())).toBeGreaterThan(20);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Inventory" }).click();
    const table = page.getByTestId("identities");
    await expect(table).toBeVisible();
    // The demo cluster's kube-system has a `default` service account, created by the simulator's controller.
    // Other tests register the same simulator under other names: look at the demo cluster.
    await page.getByRole("combobox", { name: "Cluster" }).selectOption("demo");
    await page.getByRole("textbox", { name: "Search" }).fill("kube-system");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect(page).toHaveURL(/q=kube-system/);
    await expect(page).toHaveURL(/cluster=demo/);
    await expect(table.getByRole("row", { name: /kube-system\s+default\b/ })).toBeVisible();
  });
}

test("an owner signs in and sees only the identities their teams own", async ({ page }) => {
  await signIn(page, "owner");
  await expect(page.getByTestId("current-role")).toHaveText("Identity owner");
  await page.goto("/identities?q=kube-system");
  // The demo owner's teams own nothing in kube-system: the database query is scoped, not the page.
  await expect(page.getByTestId("identity-count")).toHaveText(/^0 identities match/);
  await expect(page.getByTestId("identities")).toHaveCount(0);
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page, "security");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
});
