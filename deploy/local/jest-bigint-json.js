// Preloaded into the jest process that `npm test` starts (node -r): jest writes its --json results with
// JSON.stringify, which throws on a BigInt, and a failed assertion on amounts carries BigInts in its
// expected and received values, so one such failure used to lose the whole tier's results file. Here a
// BigInt is written as its decimal string. Test code runs in jest's own sandbox with its own BigInt,
// which this leaves alone, and the services and CLIs the tests start are not preloaded.
'use strict';
BigInt.prototype.toJSON = function toJSON() {
  return this.toString();
};
