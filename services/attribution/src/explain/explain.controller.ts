import { BadRequestException, Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { DecisionStore } from '../decision/decision-store';
import { explainStored } from './explain';

const INFERENCE_ID_LENGTH_MAX = 256;

/** GET /inferences/:inferenceId/explain: the decision of one inference, line by line. Read-only. */
@Controller('inferences')
export class ExplainController {
  constructor(@Inject(DecisionStore) private readonly decisions: DecisionStore) {}

  @Get(':inferenceId/explain')
  async explain(@Param('inferenceId') inferenceId: string): Promise<{ inferenceId: string; lines: string[] }> {
    if (inferenceId.length === 0 || inferenceId.length > INFERENCE_ID_LENGTH_MAX) {
      throw new BadRequestException(`inferenceId: must be 1 to ${INFERENCE_ID_LENGTH_MAX} characters`);
    }
    const stored = await this.decisions.find(inferenceId);
    if (stored === null) throw new NotFoundException(`inferenceId: no decision for ${inferenceId}`);
    return { inferenceId, lines: explainStored(stored) };
  }
}
