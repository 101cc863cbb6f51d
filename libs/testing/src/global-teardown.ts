/** Jest global teardown: stops what global setup started (nothing, when the stack was given). */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__tributaryTestStack?.stop();
}
