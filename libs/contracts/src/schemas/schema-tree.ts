// A typed view of an Avro schema written as JSON. The compatibility checker, the limits validator
// and the type generator all walk schemas; parsing the JSON once into this tree keeps Avro's name
// resolution rules (namespaces, references to named types defined earlier) in one place.

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

export type PrimitiveName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';
const PRIMITIVE_NAMES: readonly string[] = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'];

/** Custom attributes (`tributary.*`) found on a type or a field, kept verbatim. */
export type Attributes = Readonly<Record<string, JsonValue>>;

export interface PrimitiveNode {
  readonly kind: 'primitive';
  readonly name: PrimitiveName;
  readonly logicalType: string | undefined;
  readonly attributes: Attributes;
}
export interface FieldNode {
  readonly name: string;
  readonly doc: string | undefined;
  readonly aliases: readonly string[];
  readonly hasDefault: boolean;
  readonly type: SchemaNode;
  readonly attributes: Attributes;
}
export interface RecordNode {
  readonly kind: 'record';
  readonly fullName: string;
  readonly namespace: string;
  readonly doc: string | undefined;
  readonly aliases: readonly string[];
  readonly fields: readonly FieldNode[];
  readonly attributes: Attributes;
}
export interface EnumNode {
  readonly kind: 'enum';
  readonly fullName: string;
  readonly doc: string | undefined;
  readonly aliases: readonly string[];
  readonly symbols: readonly string[];
  readonly defaultSymbol: string | undefined;
}
export interface FixedNode {
  readonly kind: 'fixed';
  readonly fullName: string;
  readonly size: number;
}
export interface ArrayNode {
  readonly kind: 'array';
  readonly items: SchemaNode;
  readonly attributes: Attributes;
}
export interface MapNode {
  readonly kind: 'map';
  readonly values: SchemaNode;
  readonly attributes: Attributes;
}
export interface UnionNode {
  readonly kind: 'union';
  readonly branches: readonly SchemaNode[];
}
export type SchemaNode = PrimitiveNode | RecordNode | EnumNode | FixedNode | ArrayNode | MapNode | UnionNode;
export type NamedNode = RecordNode | EnumNode | FixedNode;

export const ATTRIBUTE_PREFIX = 'tributary.';

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Avro full-name rule: a dotted name is already full, otherwise it lives in the enclosing namespace. */
export function fullNameOf(name: string, namespace: string): string {
  if (name.includes('.') || namespace === '') return name;
  return `${namespace}.${name}`;
}

export function namespaceOf(fullName: string): string {
  const lastDot = fullName.lastIndexOf('.');
  return lastDot < 0 ? '' : fullName.slice(0, lastDot);
}

export function shortNameOf(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

/** Parses a self-contained schema (every named type defined before use) into a tree. */
export function parseSchemaTree(schema: JsonValue): SchemaNode {
  return new TreeParser().parse(schema, '');
}

export function parseRecordTree(schema: JsonValue): RecordNode {
  const node = parseSchemaTree(schema);
  if (node.kind !== 'record') throw new Error(`expected a record schema, got ${describeNode(node)}`);
  return node;
}

class TreeParser {
  private readonly named = new Map<string, NamedNode>();

  parse(schema: JsonValue, namespace: string): SchemaNode {
    if (typeof schema === 'string') return this.reference(schema, namespace);
    if (Array.isArray(schema))
      return { kind: 'union', branches: schema.map((branch) => this.parse(branch, namespace)) };
    if (!isJsonObject(schema)) throw new Error(`invalid schema node: ${JSON.stringify(schema)}`);
    return this.complex(schema, namespace);
  }

  private reference(name: string, namespace: string): SchemaNode {
    if (PRIMITIVE_NAMES.includes(name)) {
      return { kind: 'primitive', name: name as PrimitiveName, logicalType: undefined, attributes: {} };
    }
    const found = this.named.get(fullNameOf(name, namespace)) ?? this.named.get(name);
    if (found === undefined) throw new Error(`unknown type '${name}' (namespace '${namespace}')`);
    return found;
  }

  private complex(schema: JsonObject, namespace: string): SchemaNode {
    const type = schema['type'];
    if (typeof type !== 'string') return this.parse(type ?? null, namespace);
    switch (type) {
      case 'record':
      case 'error':
        return this.record(schema, namespace);
      case 'enum':
        return this.register(this.enumNode(schema, namespace));
      case 'fixed':
        return this.register(this.fixed(schema, namespace));
      case 'array':
        return {
          kind: 'array',
          items: this.parse(required(schema, 'items'), namespace),
          attributes: customAttributes(schema),
        };
      case 'map':
        return {
          kind: 'map',
          values: this.parse(required(schema, 'values'), namespace),
          attributes: customAttributes(schema),
        };
      default:
        return this.primitive(schema, type);
    }
  }

  private primitive(schema: JsonObject, type: string): PrimitiveNode {
    if (!PRIMITIVE_NAMES.includes(type)) throw new Error(`unknown type '${type}'`);
    const logicalType = schema['logicalType'];
    return {
      kind: 'primitive',
      name: type as PrimitiveName,
      logicalType: typeof logicalType === 'string' ? logicalType : undefined,
      attributes: customAttributes(schema),
    };
  }

  private record(schema: JsonObject, namespace: string): RecordNode {
    const fullName = this.fullName(schema, namespace);
    const ownNamespace = namespaceOf(fullName);
    const fields: FieldNode[] = [];
    const node: RecordNode = {
      kind: 'record',
      fullName,
      namespace: ownNamespace,
      doc: optionalString(schema, 'doc'),
      aliases: stringList(schema['aliases']).map((alias) => fullNameOf(alias, ownNamespace)),
      fields,
      attributes: customAttributes(schema),
    };
    // Registered before its fields are parsed so that a recursive reference resolves to it.
    this.register(node);
    for (const field of arrayOf(required(schema, 'fields'))) fields.push(this.field(field, ownNamespace));
    return node;
  }

  private field(field: JsonValue, namespace: string): FieldNode {
    if (!isJsonObject(field)) throw new Error(`invalid field: ${JSON.stringify(field)}`);
    const name = required(field, 'name');
    if (typeof name !== 'string') throw new Error(`invalid field name: ${JSON.stringify(name)}`);
    return {
      name,
      doc: optionalString(field, 'doc'),
      aliases: stringList(field['aliases']),
      hasDefault: Object.prototype.hasOwnProperty.call(field, 'default'),
      type: this.parse(required(field, 'type'), namespace),
      attributes: customAttributes(field),
    };
  }

  private enumNode(schema: JsonObject, namespace: string): EnumNode {
    const fullName = this.fullName(schema, namespace);
    return {
      kind: 'enum',
      fullName,
      doc: optionalString(schema, 'doc'),
      aliases: stringList(schema['aliases']).map((alias) => fullNameOf(alias, namespaceOf(fullName))),
      symbols: stringList(required(schema, 'symbols')),
      defaultSymbol: optionalString(schema, 'default'),
    };
  }

  private fixed(schema: JsonObject, namespace: string): FixedNode {
    const size = required(schema, 'size');
    if (typeof size !== 'number') throw new Error(`invalid fixed size: ${JSON.stringify(size)}`);
    return { kind: 'fixed', fullName: this.fullName(schema, namespace), size };
  }

  private fullName(schema: JsonObject, namespace: string): string {
    const name = required(schema, 'name');
    if (typeof name !== 'string') throw new Error(`invalid name: ${JSON.stringify(name)}`);
    const ownNamespace = optionalString(schema, 'namespace') ?? namespace;
    return fullNameOf(name, ownNamespace);
  }

  private register<T extends NamedNode>(node: T): T {
    if (this.named.has(node.fullName)) throw new Error(`type '${node.fullName}' is defined twice`);
    this.named.set(node.fullName, node);
    return node;
  }
}

function required(schema: JsonObject, key: string): JsonValue {
  const value = schema[key];
  if (value === undefined) throw new Error(`schema node lacks '${key}': ${JSON.stringify(schema).slice(0, 200)}`);
  return value;
}

function optionalString(schema: JsonObject, key: string): string | undefined {
  const value = schema[key];
  return typeof value === 'string' ? value : undefined;
}

function arrayOf(value: JsonValue): readonly JsonValue[] {
  if (!Array.isArray(value)) throw new Error(`expected an array, got ${JSON.stringify(value)}`);
  return value;
}

function stringList(value: JsonValue | undefined): string[] {
  if (value === undefined) return [];
  return arrayOf(value).map((item) => {
    if (typeof item !== 'string') throw new Error(`expected a string, got ${JSON.stringify(item)}`);
    return item;
  });
}

function customAttributes(schema: JsonObject): Attributes {
  const attributes: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith(ATTRIBUTE_PREFIX)) attributes[key] = value;
  }
  return attributes;
}

/** A short human description of a type, used in compatibility and validation messages. */
export function describeNode(node: SchemaNode): string {
  switch (node.kind) {
    case 'primitive':
      return node.name;
    case 'record':
    case 'enum':
    case 'fixed':
      return node.fullName;
    case 'array':
      return `array<${describeNode(node.items)}>`;
    case 'map':
      return `map<${describeNode(node.values)}>`;
    case 'union':
      return node.branches.map(describeNode).join(' | ');
  }
}

/** For `["null", X]` fields: the X the value has when it is present; the node itself otherwise. */
export function nonNullBranch(node: SchemaNode): SchemaNode {
  if (node.kind !== 'union') return node;
  const present = node.branches.filter((branch) => !(branch.kind === 'primitive' && branch.name === 'null'));
  return present.length === 1 && present[0] !== undefined ? present[0] : node;
}
