// A decision row's headers come back from the JSON text the decider stored; anything else in the column
// is refused with the row named, never passed to explain as if it were headers.
import { storedHeaders } from '../src/decision/decision-store';

describe('given a stored decision row', () => {
  it('reads its headers back from the JSON text', () => {
    const headers = { ce_id: 'attributed:inference-1', ce_subject: 'inférence-ü', 'content-type': 'application/avro' };
    expect(storedHeaders('inference-1', JSON.stringify(headers))).toEqual(headers);
  });

  it.each([
    ['text that is not JSON', '{"ce_id":'],
    ['a JSON array', '["ce_id"]'],
    ['JSON null', 'null'],
    ['a header value that is not a string', '{"ce_id":1}'],
  ])('refuses %s, naming the row', (_case, text) => {
    expect(() => storedHeaders('inference-7', text)).toThrow(
      'decisions.headers of inference-7: expected the JSON text of an object of strings',
    );
  });
});
