// Proves the registry CLI rejects a bad --port or --name with a message naming the flag and the rule, and that a bad
// flag ends as one line and a non-zero exit, by parsing argv without starting anything.
import { InvalidArgumentError } from 'commander';
import { main, parseNameOption, parsePortOption } from './cli';

describe('registry CLI options', () => {
  it('accepts a port in range and a lower-case name', () => {
    expect(parsePortOption('18081')).toBe(18081);
    expect(parseNameOption('it-registry')).toBe('it-registry');
  });

  it.each(['abc', '80', '65535', '8081.5', ''])(
    'rejects --port %p naming the flag, the rule and the value',
    (value) => {
      expect(() => parsePortOption(value)).toThrow(InvalidArgumentError);
      expect(() => parsePortOption(value)).toThrow(
        `--port must be an integer from 1024 to 65534 (the management interface takes port + 1), got '${value}'`,
      );
    },
  );

  it.each(['Dev', 'bad_name', '-dev', '', '../etc'])('rejects --name %p', (value) => {
    expect(() => parseNameOption(value)).toThrow("--name must be 1-40 characters of a-z, 0-9 and '-'");
  });

  it('prints one line and exits non-zero on a bad flag', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await main(['node', 'cli', 'stop', '--name', 'Bad Name']);
    } finally {
      spy.mockRestore();
    }
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
    expect(written.join('')).toMatch(
      /^tributary: option '--name <name>' argument 'Bad Name' is invalid\. --name must be/,
    );
    expect(written.join('').trim().split('\n')).toHaveLength(1);
  });
});
