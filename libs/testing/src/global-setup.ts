// Global setup runs outside jest's module mapper, so the @tributary/* path aliases are registered here.
import 'tsconfig-paths/register';
import { startTestStack, type TestStack } from './stack';

declare global {
  var __tributaryTestStack: TestStack | undefined;
}

/** Jest global setup: one broker and one database server for the whole integration run. */
export default async function globalSetup(): Promise<void> {
  const stack = await startTestStack((line) => process.stdout.write(`${line}\n`));
  globalThis.__tributaryTestStack = stack;
  // Workers are forked after global setup, so they inherit these.
  Object.assign(process.env, stack.env);
}
