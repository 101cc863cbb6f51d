import {
  BadRequestException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Optional,
  Param,
  UseGuards,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { schemaCatalogEntries, type SchemaCatalogEntry } from '@tributary/contracts';
import { GatewayRateLimitGuard } from '../auth/rate-limit.guard';

const FINGERPRINT = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9_.]{1,256}$/;
const VERSION = /^[1-9][0-9]{0,5}$/;

/** Fingerprint -> schema registry id, from registering the schemas at start-up; absent without a registry. */
export const SCHEMA_REGISTRY_IDS = Symbol('SCHEMA_REGISTRY_IDS');

/**
 * The read-only schema catalog: a consumer in any language fetches the writer schema of a record from
 * the fingerprint in its ce_dataschema header (urn:tributary:schema:sha256:<fingerprint>). It takes no
 * key, so its rate limit is per client address.
 */
@ApiTags('schemas')
@Controller('schemas')
@UseGuards(GatewayRateLimitGuard)
export class SchemaCatalogController {
  private readonly entries: SchemaCatalogEntry[];
  private readonly byFingerprint: Map<string, SchemaCatalogEntry>;

  constructor(@Optional() @Inject(SCHEMA_REGISTRY_IDS) registryIds?: ReadonlyMap<string, number>) {
    this.entries = schemaCatalogEntries(registryIds);
    this.byFingerprint = new Map(this.entries.map((entry) => [entry.fingerprint, entry]));
  }

  @Get()
  @ApiOperation({
    summary: 'Every schema version: name, version, fingerprint, topic, registry id (without the schema text)',
  })
  list() {
    return this.entries.map(({ schema: _schema, ...summary }) => summary);
  }

  @Get(':fingerprint')
  @ApiOperation({ summary: 'One writer schema by its SHA-256 fingerprint (lowercase hex, 64 characters)' })
  @ApiOkResponse({ description: 'The catalog entry, with the Avro schema under "schema"' })
  byFingerprintOf(@Param('fingerprint') fingerprint: string): SchemaCatalogEntry {
    if (!FINGERPRINT.test(fingerprint))
      throw new BadRequestException({ field: 'fingerprint', rule: 'must be 64 lowercase hex characters' });
    const entry = this.byFingerprint.get(fingerprint);
    if (!entry) throw new NotFoundException({ field: 'fingerprint', rule: 'no schema has this fingerprint' });
    return entry;
  }

  @Get(':name/versions/:version')
  @ApiOperation({
    summary: 'One schema by its Avro full name (e.g. tributary.inferences.InferenceCompleted) and version',
  })
  byNameAndVersion(@Param('name') name: string, @Param('version') version: string): SchemaCatalogEntry {
    if (!NAME.test(name))
      throw new BadRequestException({ field: 'name', rule: 'must be an Avro full name of 1 to 256 characters' });
    if (!VERSION.test(version)) throw new BadRequestException({ field: 'version', rule: 'must be a positive integer' });
    const entry = this.entries.find((candidate) => candidate.name === name && candidate.version === Number(version));
    if (!entry) throw new NotFoundException({ field: 'name', rule: `no schema ${name} version ${version}` });
    return entry;
  }
}
