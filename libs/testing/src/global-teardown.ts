// Global teardown runs outside jest's module mapper, so the @tributary/* path aliases are registered here.
import 'tsconfig-paths/register';
import { stopTestClusterOfThisRun } from './cluster';

/** Jest global teardown: stops what global setup (or a cluster test file) started for this run. */
export default async function globalTeardown(): Promise<void> {
  await stopTestClusterOfThisRun();
  await globalThis.__tributaryTestStack?.stop();
}
