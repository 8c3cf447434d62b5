import { z } from 'zod';
import { engineSchema, NO_TOKENS, parse } from '../schema';
import type { ParameterGroupProps } from './parameter-group';
import { NOT_A_STRING } from './validate';

const propsSchema = z.object({
  engine: engineSchema(),
  parameters: z
    .record(z.string(), z.string({ error: NOT_A_STRING }), {
      error: 'must be an object of parameter names to string values',
    })
    .optional(),
  description: z.string({ error: 'must be a string' }).optional(),
});

/**
 * Checks the shape of a parameter group's props (the catalog then checks each parameter):
 * a JavaScript caller can pass anything.
 */
export function validateParameterGroupProps(props: ParameterGroupProps): void {
  parse(propsSchema, props, NO_TOKENS, []);
}
