import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishTestImage } from "./support/images.ts";
import { TestSystem } from "./support/system.ts";

/** Screenshots of each step, kept as the run's artifacts (gitignored). */
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/console/", import.meta.url));
/** Debian's Chromium (scripts/services.sh installs it): playwright-core never downloads a browser. */
const CHROMIUM = process.env.EDGEPLANE_CHROMIUM ?? "/usr/bin/chromium";
const LOG_MARKER = "console-e2e-log-line";

/** What the test reads in the page (the test's own tsconfig has no DOM types; this runs in Chromium). */
interface InPage {
  localStorage: Record<string, string>;
  sessionStorage: Record<string, string>;
  document: { cookie: string; documentElement: { outerHTML: string } };
  consoleMark?: boolean;
}

// The web console in a real headless Chromium against a whole edgeplane: sign in with the admin
// token, open a project, watch a deployment made through the API reach `ready` in the page without a
// reload, follow its logs, redeploy and destroy it with the buttons; a read-only token is offered no
// such button; and the session cookie alone (no console header) opens nothing under /v1.
describe("web console", () => {
  const system = new TestSystem();
  let browser: Browser;
  let image = "";
  /** What the pages reported as errors (a CSP violation among them), per context. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    image = await publishTestImage(`acme/console-${system.id}`, "v1", {
      message: "console e2e",
      cmd: ["/bin/sh", "-c", `echo ${LOG_MARKER}; exec /bin/serve`],
    });
    await system.start();
    const project = await system.api("POST", "/v1/projects", {
      body: {
        name: "shop",
        domain: "shop.test",
        port: 8080,
        healthcheckPath: "/healthz",
        repository: "acme/shop",
      },
    });
    expect(project.status, JSON.stringify(project.body)).toBe(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
    await system.stop();
  });

  async function openConsole(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const res = await page.goto(`${system.apiUrl}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toMatch(/^default-src 'self'/);
    return { context, page };
  }

  async function signIn(page: Page, token: string) {
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("who").waitFor();
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  it("the admin follows a deployment live, reads its logs, redeploys and destroys it", async () => {
    const { context, page } = await openConsole();
    await page.getByLabel("API token").waitFor();
    await shot(page, "01-sign-in");
    await signIn(page, system.adminToken);
    expect(await page.getByTestId("who").textContent()).toContain("admin");

    // the token went to the API once: the page keeps no copy, and no script can read the cookie
    const stored = await page.evaluate((token) => {
      const { localStorage, sessionStorage, document } = globalThis as unknown as InPage;
      return {
        local: JSON.stringify({ ...localStorage }),
        session: JSON.stringify({ ...sessionStorage }),
        cookie: document.cookie,
        inPage: document.documentElement.outerHTML.includes(token),
      };
    }, system.adminToken);
    expect(stored).toEqual({ local: "{}", session: "{}", cookie: "", inPage: false });
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({
      name: "edgeplane_session",
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
    });
    expect(cookie?.value).not.toContain(system.adminToken);

    await page.getByRole("link", { name: "shop", exact: true }).click();
    await page.getByText("No environments yet.").waitFor();
    // a mark on the page: were it reloaded, the mark would be gone
    await page.evaluate(() => Object.assign(globalThis, { consoleMark: true }));

    const deploy = await system.api("POST", "/v1/deployments", {
      body: { project: "shop", environment: "pr-7", image },
    });
    expect(deploy.status, JSON.stringify(deploy.body)).toBe(202);
    const row = page.getByTestId("env-pr-7");
    await row.waitFor({ timeout: 15_000 });
    await row.getByTestId("status").getByText("ready", { exact: true }).waitFor({ timeout: 90_000 });
    expect(await page.evaluate(() => (globalThis as unknown as InPage).consoleMark)).toBe(true);
    expect(await row.textContent()).toContain(image);
    expect(await row.textContent()).toMatch(/sha256:[0-9a-f]{12}/);
    await shot(page, "02-environments");

    await row.getByRole("link", { name: "pr-7", exact: true }).click();
    const first = page.getByTestId(`deployment-${deploy.body.id}`);
    await first.getByTestId("timeline").getByText("ready").waitFor();
    expect(await first.getByTestId("timeline").textContent()).toMatch(
      /queued.*staging.*starting.*routing.*ready/,
    );
    await page.getByRole("button", { name: "Show logs" }).click();
    await page.getByTestId("logs").getByText(LOG_MARKER).waitFor({ timeout: 30_000 });
    await shot(page, "03-environment-logs");

    const streams: Array<{ url: string; status: number; type: string }> = [];
    page.on("response", (res) => {
      if (res.url().endsWith("/events"))
        streams.push({ url: res.url(), status: res.status(), type: res.headers()["content-type"] ?? "" });
    });
    await page.getByRole("button", { name: "Redeploy" }).click();
    await page.getByText(/Deployment dep_\w+ queued\./).waitFor();
    const redeployed = await system.api<{ deployments: Array<{ id: string; generation: number }> }>(
      "GET",
      "/v1/projects/shop/environments/pr-7/deployments",
    );
    const second = redeployed.body.deployments[0];
    expect(second?.generation).toBe(2);
    await page
      .getByTestId(`deployment-${second?.id}`)
      .getByTestId("status")
      .getByText("ready", { exact: true })
      .waitFor({ timeout: 90_000 });
    // the new deployment's events came live over server-sent events, read with fetch and the header
    const events = page.getByTestId(`deployment-${second?.id}`).getByTestId("events");
    await events.getByText("ready").waitFor();
    expect(await events.textContent()).toMatch(/queued.*staging.*starting.*routing.*ready/);
    expect(streams).toContainEqual({
      url: `${system.apiUrl}/v1/deployments/${second?.id}/events`,
      status: 200,
      type: expect.stringContaining("text/event-stream"),
    });
    // the logs follow the new container once the old one is gone
    await page.getByTestId("logs").getByText("the stream was opened again").waitFor({ timeout: 30_000 });
    expect((await page.getByTestId("logs").textContent())?.split(LOG_MARKER).length).toBe(3);

    await page.getByRole("button", { name: "Destroy", exact: true }).click();
    await page.getByRole("button", { name: "Confirm destroy" }).click();
    await page.locator("h1").getByTestId("status").getByText("destroyed").waitFor({ timeout: 60_000 });
    expect(await page.getByRole("button", { name: "Destroy", exact: true }).count()).toBe(0);
    await shot(page, "04-destroyed");
    const gone = await system.api("GET", "/v1/projects/shop/environments/pr-7");
    expect(gone.body.status).toBe("destroyed");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token").waitFor();
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  it("a read-only token sees the environment and its logs, and no redeploy or destroy button", async () => {
    const token = await system.api("POST", "/v1/tokens", {
      body: { name: "console-reader", projects: ["shop"], scopes: ["read"] },
    });
    expect(token.status).toBe(201);
    const deploy = await system.api("POST", "/v1/deployments", {
      body: { project: "shop", environment: "staging", image },
    });
    expect(deploy.status).toBe(202);
    await system.waitForDeployment(deploy.body.id, (d) => d.status === "ready", 90_000);

    const { context, page } = await openConsole();
    await signIn(page, token.body.token);
    expect(await page.getByTestId("who").textContent()).toContain("console-reader");
    await page.goto(`${system.apiUrl}/#/projects/shop/environments/staging`);
    await page.locator("h1").getByTestId("status").getByText("ready").waitFor();
    await page.getByTestId(`deployment-${deploy.body.id}`).waitFor();
    await page.getByRole("button", { name: "Show logs" }).click();
    await page.getByTestId("logs").getByText(LOG_MARKER).waitFor({ timeout: 30_000 });
    expect(await page.getByRole("button", { name: "Redeploy" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /Destroy/ }).count()).toBe(0);
    await shot(page, "05-read-only");

    // the cookie alone, as a cross-site request would carry it, opens nothing: 401 without the header
    const inPage = await page.evaluate(async () => {
      const bare = await fetch("/v1/projects");
      const withHeader = await fetch("/v1/projects", { headers: { "x-edgeplane-console": "1" } });
      return { bare: bare.status, withHeader: withHeader.status };
    });
    expect(inPage).toEqual({ bare: 401, withHeader: 200 });
    const session = (await context.cookies()).find((c) => c.name === "edgeplane_session");
    expect(session).toBeDefined();
    const cookie = `edgeplane_session=${session?.value}`;
    const bare = await fetch(`${system.apiUrl}/v1/projects`, { headers: { cookie } });
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const destroy = await fetch(`${system.apiUrl}/v1/projects/shop/environments/staging`, {
      method: "DELETE",
      headers: { cookie },
    });
    expect(destroy.status).toBe(401);
    const withHeader = await fetch(`${system.apiUrl}/v1/projects/shop/environments/staging`, {
      method: "DELETE",
      headers: { cookie, "x-edgeplane-console": "1" },
    });
    expect(withHeader.status).toBe(403); // the header lets the session in; its read scope still decides
    expect((await system.api("GET", "/v1/projects/shop/environments/staging")).body.status).toBe("ready");
    await context.close();
  });

  it("no page reported an error (a CSP violation would be one)", () => {
    // the read-only token's 403 above is the API's answer to Node's fetch, not the page's
    expect(pageErrors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
  });
});
