// Proves the registration plan has one subject per event type named by the record-name strategy, every
// version oldest first with the catalog's fingerprints, and that the registry's answers are read with an
// error naming the field and the rule, by building the plan from the real contracts and feeding bad bodies.
import { ceTypeOf, isEventType, listEventContracts, parseAvroType, schemaCatalogEntries } from '@tributary/contracts';
import {
  COMPATIBILITY_LEVEL,
  RegistryResponseError,
  compatibilityBody,
  parseCompatibilityResponse,
  parseRegisterResponse,
  parseSchemaByIdResponse,
  parseSubjectVersionResponse,
  parseSubjectsResponse,
  parseVersionsResponse,
  registerSchemaBody,
  registrationPlan,
  registryErrorText,
} from './plan';

describe('registrationPlan', () => {
  const plan = registrationPlan();

  it('has one subject per event type, named by its Avro full name (the ce_type)', () => {
    expect(plan.map((subject) => subject.eventType).sort()).toEqual(
      listEventContracts()
        .map((contract) => contract.eventType)
        .sort(),
    );
    for (const subject of plan) {
      if (!isEventType(subject.eventType)) throw new Error(subject.eventType);
      expect(subject.subject).toBe(ceTypeOf(subject.eventType));
    }
  });

  it('lists subjects in name order and each subject’s versions oldest to newest, all of them', () => {
    const names = plan.map((subject) => subject.subject);
    expect(names).toEqual([...names].sort());
    for (const subject of plan) {
      const versions = subject.versions.map((version) => version.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(versions).toEqual(
        [
          ...listEventContracts()
            .find((c) => c.eventType === subject.eventType)!
            .versions.keys(),
        ].sort((a, b) => a - b),
      );
    }
    expect(plan.some((subject) => subject.versions.length > 1)).toBe(true);
  });

  it('registers each schema under the fingerprint the catalog uses, and the text parses back to it', () => {
    const catalog = new Map(schemaCatalogEntries().map((entry) => [entry.fingerprint, entry]));
    const planned = plan.flatMap((subject) => subject.versions.map((version) => ({ subject, version })));
    expect(planned).toHaveLength(catalog.size);
    for (const { subject, version } of planned) {
      const entry = catalog.get(version.fingerprint);
      expect(entry).toMatchObject({ name: subject.subject, version: version.version });
      expect(parseAvroType(JSON.parse(version.schemaText)).fingerprint('sha256').toString('hex')).toBe(
        version.fingerprint,
      );
    }
  });
});

describe('request bodies', () => {
  it('registers Avro and sets the FULL level the project’s checker enforces', () => {
    expect(registerSchemaBody('{"type":"string"}')).toEqual({ schema: '{"type":"string"}', schemaType: 'AVRO' });
    expect(COMPATIBILITY_LEVEL).toBe('FULL');
    expect(compatibilityBody()).toEqual({ compatibility: 'FULL' });
  });
});

describe('parsing the registry’s answers', () => {
  const request = 'POST /subjects/x/versions';

  it('reads the happy shapes', () => {
    expect(parseRegisterResponse(request, { id: 7 })).toBe(7);
    expect(parseSchemaByIdResponse(request, { schema: '"string"' })).toEqual({
      schema: '"string"',
      schemaType: 'AVRO',
    });
    expect(parseSubjectsResponse(request, ['a.B'])).toEqual(['a.B']);
    expect(parseVersionsResponse(request, [1, 2])).toEqual([1, 2]);
    expect(parseCompatibilityResponse(request, { compatibilityLevel: 'FULL' })).toBe('FULL');
    expect(parseCompatibilityResponse(request, { compatibility: 'FULL', normalize: false })).toBe('FULL');
    expect(parseSubjectVersionResponse(request, { subject: 'a.B', version: 2, id: 9, schema: '"int"' })).toEqual({
      subject: 'a.B',
      version: 2,
      id: 9,
      schema: '"int"',
    });
  });

  it.each([
    [() => parseRegisterResponse(request, { id: '7' }), 'id: must be a positive integer, got "7"'],
    [() => parseRegisterResponse(request, { id: 0 }), 'id: must be a positive integer, got 0'],
    [() => parseRegisterResponse(request, [1]), '(body): must be a JSON object, got [1]'],
    [() => parseRegisterResponse(request, null), '(body): must be a JSON object, got null'],
    [() => parseSchemaByIdResponse(request, { schema: '' }), 'schema: must be a non-empty string, got ""'],
    [
      () => parseSchemaByIdResponse(request, { schema: 'x', schemaType: 3 }),
      'schemaType: must be a string when present, got 3',
    ],
    [() => parseSubjectsResponse(request, ['a', 4]), '[1]: must be a non-empty string, got 4'],
    [() => parseVersionsResponse(request, [1, -2]), '[1]: must be a positive integer, got -2'],
    [() => parseVersionsResponse(request, { versions: [] }), '(body): must be a JSON array, got {"versions":[]}'],
    [
      () => parseCompatibilityResponse(request, {}),
      'compatibilityLevel: must be a level such as FULL or BACKWARD, got undefined',
    ],
    [
      () => parseSubjectVersionResponse(request, { subject: 'a', version: 1, id: 'x', schema: 's' }),
      'id: must be a positive integer, got "x"',
    ],
  ])('names the field and the rule (%#)', (parse, message) => {
    expect(parse).toThrow(RegistryResponseError);
    expect(parse).toThrow(`schema registry answer to ${request}: ${message}`);
  });

  it('keeps the registry’s own error message short', () => {
    expect(registryErrorText({ error_code: 409, message: 'Incompatible' })).toBe('Incompatible');
    expect(registryErrorText({ message: 'x'.repeat(400) })).toHaveLength(303);
    expect(registryErrorText('<html>')).toBe('"<html>"');
  });
});
