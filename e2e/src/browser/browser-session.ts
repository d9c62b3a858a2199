import { readFileSync } from 'node:fs';
import type { LocalStack } from '@airlock/local-stack';
import type { Page } from 'playwright-core';
import type { BrowserHarness } from './browser-harness';

/** A person of the tests, with the password they sign in with. */
export interface TestPerson {
  readonly email: string;
  readonly displayName: string;
  readonly password: string;
}

/**
 * Creates the first admin with the stack's bootstrap token through the API, from the
 * browser's own context: the answer's session cookie lands in that context, so the page is
 * signed in as the admin. (dashboard.e2e-spec.ts drives the bootstrap form itself.)
 */
export async function bootstrapAdminSession(harness: BrowserHarness, stack: LocalStack, admin: TestPerson): Promise<void> {
  const response = await harness.context.request.post('/api/v1/auth/bootstrap', {
    data: { bootstrapToken: readFileSync(stack.adminTokenFile, 'utf8').trim(), ...admin },
  });
  if (response.status() !== 201) throw new Error(`bootstrap answered ${response.status()}: ${await response.text()}`);
}

/** Adds a person with `role` through the people API, as the stack's bootstrap API token (an admin's). */
export async function createPerson(stack: LocalStack, person: TestPerson, role: 'ADMIN' | 'MANAGER' | 'VIEWER'): Promise<string> {
  const created = await stack.api.request<{ id: string }>('POST', '/users', { ...person, role });
  if (created.status !== 201) throw new Error(`POST /users answered ${created.status}: ${JSON.stringify(created.body)}`);
  return created.body.id;
}

/** Signs in through the login form and waits until the app has left the login page. */
export async function signIn(page: Page, person: TestPerson): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

/** Logs out with the header's button and waits for the login page. */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}
