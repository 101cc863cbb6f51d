/**
 * kafkajs's 64-bit integer (`utils/long`, a bigint wrapper), the one type its protocol code passes
 * offsets, timestamps and producer ids in; the replacements of its encoders and record decoder fall back
 * on it wherever a double cannot hold a value exactly. kafkajs exports it from no public module.
 */
export interface KafkajsLong {
  add(addend: KafkajsLong | number | string): KafkajsLong;
  getHighBits(): number;
  getLowBits(): number;
  toString(): string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs exports none of its protocol modules
export const Long = require('kafkajs/src/utils/long') as {
  fromInt(value: number): KafkajsLong;
  fromValue(value: unknown): KafkajsLong;
};
