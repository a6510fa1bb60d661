import { onTestFinished } from 'vitest';
import { createSandbox, type Sandbox, type SandboxOverrides } from '../../src/sandbox/create-sandbox.js';

/** A sandbox on port 0 for one test, closed when the test ends. Rate limiting is off unless asked for. */
export async function startSandbox(overrides: SandboxOverrides = {}): Promise<Sandbox> {
  const sandbox = await createSandbox({
    token: TEST_TOKEN,
    ...overrides,
    rateLimit: { callsPerSecond: 0, ...overrides.rateLimit },
  });
  onTestFinished(() => sandbox.close());
  return sandbox;
}

/** A distinctive token, so a test can prove it appears in no output. */
export const TEST_TOKEN = 'IGAAtestTOKEN-3c9f1e7a5b-do-not-leak';
