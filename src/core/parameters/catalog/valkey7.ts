import { FamilyCatalog } from './parameter-spec';
import { REDIS7 } from './redis7';

/** ElastiCache's `valkey7` family: Valkey 7.2, whose parameters are Redis 7.2's. */
export const VALKEY7: FamilyCatalog = {
  ...REDIS7,
  family: 'valkey7',
  engineName: 'Valkey',
  firstVersion: '7.2',
};
