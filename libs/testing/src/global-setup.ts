// Global setup runs outside jest's module mapper, so the @tributary/* path aliases are registered here.
import 'tsconfig-paths/register';
import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from './stack';

declare global {
  var __tributaryTestStack: TestStack | undefined;
}

/** Jest global setup: one broker and one database server for the whole integration run. */
export default async function globalSetup(): Promise<void> {
  // Names this run: the cluster test files share one cluster per run (cluster.ts).
  process.env.TRIBUTARY_TEST_RUN_ID = randomUUID();
  const stack = await startTestStack((line) => process.stdout.write(`${line}\n`));
  globalThis.__tributaryTestStack = stack;
  // Workers are forked after global setup, so they inherit these.
  Object.assign(process.env, stack.env);
}
