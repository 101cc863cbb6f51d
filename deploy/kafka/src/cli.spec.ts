// Proves the CLI rejects bad --port, --brokers and --name values with a message that names the flag and the rule, by parsing argv without running any command.
import { CommanderError } from 'commander';
import { buildProgram, parseBrokersOption, parseNameOption, parsePortOption } from './cli';

describe('option parsers', () => {
  it('accepts a port in range and a lower-case name', () => {
    expect(parsePortOption('19092')).toBe(19092);
    expect(parseNameOption('it-run-7')).toBe('it-run-7');
  });

  it.each(['abc', '80', '65000', '9092.5', '-1', ''])(
    'rejects --port %p naming the flag, the rule and the value',
    (value) => {
      expect(() => parsePortOption(value)).toThrow(
        `--port must be an integer from 1024 to 63535 (the controller takes port + 1000, the inter-broker listener port + 2000), got '${value}'`,
      );
    },
  );

  it.each(['1', '3', '5'])('accepts --brokers %p, an odd quorum', (value) => {
    expect(parseBrokersOption(value)).toBe(Number(value));
  });

  it.each(['2', '4', '0', '7', 'three', '3.0', ''])('rejects --brokers %p naming the flag and the rule', (value) => {
    expect(() => parseBrokersOption(value)).toThrow(
      `--brokers must be one of 1, 3, 5 (a KRaft quorum wants an odd number of voters), got '${value}'`,
    );
  });

  it.each(['Dev', 'bad_name', '-dev', '', 'x'.repeat(41), '../etc'])('rejects --name %p', (value) => {
    expect(() => parseNameOption(value)).toThrow(/^--name must be 1-40 characters of a-z, 0-9 and '-'/);
  });
});

describe('buildProgram', () => {
  let stderrWrites: string[];

  beforeEach(() => {
    stderrWrites = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderrWrites.push(String(chunk));
      return true;
    });
  });

  afterEach(() => jest.restoreAllMocks());

  it('fails `start --port abc` before doing anything, with one tributary line', async () => {
    const parsing = buildProgram().parseAsync(['node', 'cli', 'start', '--port', 'abc']);
    await expect(parsing).rejects.toBeInstanceOf(CommanderError);
    expect(stderrWrites.join('')).toMatch(
      /^tributary: option '--port <port>' argument 'abc' is invalid\. --port must be/,
    );
    expect(stderrWrites.join('').trim().split('\n')).toHaveLength(1);
  });

  it('rejects an unknown command', async () => {
    await expect(buildProgram().parseAsync(['node', 'cli', 'launch'])).rejects.toBeInstanceOf(CommanderError);
  });
});
