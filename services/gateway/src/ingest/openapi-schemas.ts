// OpenAPI request schemas generated from the Avro contracts, so the documentation and the validation
// come from the same .avsc files: types, docs, required fields and the tributary.* limits.
import { getEventContract, type EventType, type EventVersionContract } from '@tributary/contracts';

type RecordNode = EventVersionContract['tree'];
type FieldNode = RecordNode['fields'][number];
type SchemaNode = FieldNode['type'];
type Attributes = FieldNode['attributes'];
export type OpenApiSchema = Record<string, unknown>;

const LONG_PATTERN = '^-?(0|[1-9][0-9]{0,18})$';

/** The JSON Schema (OpenAPI 3.0 dialect) of one event type's HTTP body. */
export function openApiSchemaOf(eventType: EventType): OpenApiSchema {
  return recordSchema(getEventContract(eventType).latest.tree);
}

function recordSchema(record: RecordNode): OpenApiSchema {
  const properties: Record<string, OpenApiSchema> = {};
  for (const field of record.fields) {
    properties[field.name] = {
      ...nodeSchema(field.type, field.attributes),
      ...(field.doc ? { description: field.doc } : {}),
    };
  }
  const required = record.fields
    .filter((field) => !(field.hasDefault && field.type.kind === 'union'))
    .map((field) => field.name);
  return {
    type: 'object',
    title: record.fullName,
    ...(record.doc ? { description: record.doc } : {}),
    properties,
    required,
    additionalProperties: false,
  };
}

function nodeSchema(node: SchemaNode, fieldAttributes: Attributes): OpenApiSchema {
  switch (node.kind) {
    case 'primitive':
      return primitiveSchema(node.name, { ...node.attributes, ...fieldAttributes });
    case 'record':
      return recordSchema(node);
    case 'enum':
      return { type: 'string', enum: [...node.symbols], ...(node.doc ? { description: node.doc } : {}) };
    case 'array':
      return {
        type: 'array',
        items: nodeSchema(node.items, {}),
        ...limit('maxItems', { ...node.attributes, ...fieldAttributes }['tributary.maxItems']),
      };
    case 'map':
      return { type: 'object', additionalProperties: nodeSchema(node.values, {}) };
    case 'union': {
      const present = node.branches.filter((branch) => !(branch.kind === 'primitive' && branch.name === 'null'));
      const nullable = present.length < node.branches.length;
      const inner =
        present.length === 1
          ? nodeSchema(present[0]!, fieldAttributes)
          : { oneOf: present.map((branch) => nodeSchema(branch, {})) };
      return { ...inner, ...(nullable ? { nullable: true } : {}) };
    }
    case 'fixed':
      return { type: 'string', minLength: node.size, maxLength: node.size };
  }
}

function primitiveSchema(name: string, attributes: Attributes): OpenApiSchema {
  const bounds = { ...limit('minimum', attributes['tributary.min']), ...limit('maximum', attributes['tributary.max']) };
  switch (name) {
    case 'string':
      return {
        type: 'string',
        ...limit('minLength', attributes['tributary.minLength']),
        ...limit('maxLength', attributes['tributary.maxLength']),
      };
    case 'int':
      return { type: 'integer', format: 'int32', ...bounds };
    case 'long':
      // Safe integers may travel as JSON numbers; any int64 as a decimal string.
      return {
        oneOf: [
          { type: 'integer', format: 'int64', ...bounds },
          { type: 'string', pattern: LONG_PATTERN },
        ],
        description: 'int64: a JSON integer up to 2^53-1, or a decimal string',
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'float':
    case 'double':
      return { type: 'number' };
    case 'bytes':
      return { type: 'string', format: 'byte' };
    default:
      return {};
  }
}

function limit(key: string, value: unknown): OpenApiSchema {
  return typeof value === 'number' ? { [key]: value } : {};
}
