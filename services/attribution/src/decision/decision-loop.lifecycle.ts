import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/**
 * Stops the decision loop when Nest shuts down (SIGTERM with shutdown hooks on), before Nest closes the
 * database pool the loop still uses: Nest calls beforeApplicationShutdown on every provider first.
 */
@Injectable()
export class DecisionLoopLifecycle implements BeforeApplicationShutdown {
  private stopLoop: (() => Promise<void>) | null = null;

  attach(stopLoop: () => Promise<void>): void {
    this.stopLoop = stopLoop;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stopLoop?.();
  }
}
