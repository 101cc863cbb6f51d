import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';

/** Chromium from Debian's packages (installed here when missing and we are root), driven by playwright-core; null, with the reason printed, where that cannot be. */
export async function launchChromium(): Promise<any> {
  let chromium: any;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded in a try, so the test skips where playwright-core is missing
    chromium = require('playwright-core').chromium;
  } catch {
    process.stdout.write(
      'SKIPPED dashboard browser test: playwright-core is not installed (add it as a devDependency)\n',
    );
    return null;
  }
  if (!existsSync(CHROMIUM)) {
    if (process.getuid?.() !== 0) {
      process.stdout.write(
        `SKIPPED dashboard browser test: ${CHROMIUM} is missing and installing it needs root (apt-get install -y chromium)\n`,
      );
      return null;
    }
    try {
      execFileSync('apt-get', ['install', '-y', 'chromium'], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', 'chromium'], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'ledger-api-chromium-'));
  // A persistent context is how playwright takes a --user-data-dir: a fresh one per run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return context;
}

/** Opens the dashboard and signs in with a read credential through its login form, as a person would. */
export async function signIn(page: any, apiUrl: string, credential: string, hash = ''): Promise<void> {
  await page.goto(`${apiUrl}/dashboard/`);
  await page.waitForSelector('[data-testid="login-credential"]');
  await page.fill('[data-testid="login-credential"]', credential);
  await page.click('[data-testid="login-submit"]');
  await page.waitForSelector('[data-testid="whoami"]');
  if (hash) await page.goto(`${apiUrl}/dashboard/${hash}`);
}
