import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropKafkajsNegativeTimerWarning, isKafkajsNegativeTimerWarning } from './kafkajs-timer-warning';

/** Warns from a file at `relative` under a temporary folder, so the warning's stack names that path. */
function warnFrom(relative: string, type: string): void {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'warning-')), relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `module.exports = (type) => process.emitWarning('-1 is a negative number.', type);\n`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the file is written at run time
  (require(file) as (type: string) => void)(type);
}

describe("kafkajs's negative-timer warning", () => {
  it('is recognised by its type and by kafkajs request queue in the stack, nothing else', () => {
    const queue =
      '    at RequestQueue.scheduleCheckPendingRequests (/app/node_modules/kafkajs/src/network/requestQueue/index.js:317:37)';
    expect(isKafkajsNegativeTimerWarning('TimeoutNegativeWarning', queue)).toBe(true);
    expect(isKafkajsNegativeTimerWarning('TimeoutOverflowWarning', queue)).toBe(false);
    expect(
      isKafkajsNegativeTimerWarning('TimeoutNegativeWarning', '    at poll (/app/libs/testing/src/eventually.ts:12:7)'),
    ).toBe(false);
  });

  it('is dropped once installed, while the same warning from elsewhere and other warnings are still printed', () => {
    const printed: string[] = [];
    const print = process.emitWarning;
    // What Node would print, recorded: the filter wraps whatever process.emitWarning is when installed.
    process.emitWarning = ((warning: string, type: string) => printed.push(`${type}: ${warning}`)) as never;
    try {
      dropKafkajsNegativeTimerWarning();
      dropKafkajsNegativeTimerWarning();
      warnFrom('node_modules/kafkajs/src/network/requestQueue/index.js', 'TimeoutNegativeWarning');
      warnFrom('libs/elsewhere/poll.js', 'TimeoutNegativeWarning');
      warnFrom('node_modules/kafkajs/src/network/requestQueue/index.js', 'DeprecationWarning');
    } finally {
      process.emitWarning = print;
    }
    expect(printed).toEqual([
      'TimeoutNegativeWarning: -1 is a negative number.',
      'DeprecationWarning: -1 is a negative number.',
    ]);
  });
});
