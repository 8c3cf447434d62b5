import { z } from 'zod';
import { CDKTF_TOKENS } from './terraform';
import { cidrContains, isIpv4Cidr, specialPurposeRange } from '../../core/addresses';
import { ValidationError } from '../../core/errors';
import { booleanSchema, enumSchema, instanceOf, integerBetween, ipv4AddressSchema, parse, subnetCidrSchema } from '../../core/schema';
import { refuseAuthTokenForMemcached, ValidatedFleet } from '../../core/validation';
import { AuthToken } from '../auth-token';
import { DockerFleetOptions } from '../container-options';
import { RemovalPolicy } from '../removal-policy';
import { RestartPolicy } from '../restart-policy';

const TOKEN_PROPS = ['authToken', 'internalAuthToken', 'adminAuthToken'] as const;

function authTokenSchema() {
  return instanceOf<AuthToken>(AuthToken, 'must be an AuthToken (AuthToken.fromVariable() or AuthToken.fromFile()), never a literal').optional();
}

const CPUS_ALLOWED = 'must be a number of CPUs greater than 0 and at most 1024, such as 0.5 or 2';
const SECRETS_DIR_ALLOWED =
  'must be an absolute directory path of the Docker host other than "/", without "..", commas, colons or control characters, such as "/etc/cachefleet/sessions"';
const BACKUP_DIR_ALLOWED =
  'must be an absolute directory path of the Docker host other than "/", without "..", commas, colons or control characters, such as "/var/backups/sessions"';

/** A directory of the Docker host that a container mounts: the provider's bind syntax takes no comma or colon. */
function hostDirectorySchema(allowed: string) {
  return z
    .string({ error: allowed })
    .refine((dir) => dir.startsWith('/') && dir !== '/' && !/[\0-\x1f,:]/.test(dir) && !dir.split('/').includes('..'), { error: allowed })
    .optional();
}

/**
 * The Docker flavor's own props, built on core's helpers so that both flavors report a wrong value
 * alike. `hostPortBase` and the subnet's room depend on the fleet's kind: they are checked once the
 * fleet is planned.
 */
const dockerOptionsSchema = z.object({
  subnetCidr: subnetCidrSchema()
    .superRefine((cidr, context) => {
      // The block's own shape is reported above; zod runs this check as well.
      const range = isIpv4Cidr(cidr) ? specialPurposeRange(cidr) : undefined;
      if (range !== undefined) {
        context.addIssue({
          code: 'custom',
          message: `must not overlap the ${range} range, which no bridge network can use: take a private range such as 172.16.0.0/12, 10.0.0.0/8 or 192.168.0.0/16`,
        });
      }
    })
    .optional(),
  memoryLimitMiB: integerBetween(32, 1_048_576, 'must be an integer number of MiB between 32 and 1048576').optional(),
  cpus: z.number({ error: CPUS_ALLOWED }).refine((cpus) => Number.isFinite(cpus) && cpus > 0 && cpus <= 1024, { error: CPUS_ALLOWED }).optional(),
  publishPorts: booleanSchema().optional(),
  hostAddress: ipv4AddressSchema('must be an IPv4 address of the Docker host, such as "127.0.0.1" (or "0.0.0.0" for every address)').optional(),
  allowUnauthenticatedHostAccess: booleanSchema().optional(),
  removalPolicy: enumSchema(RemovalPolicy, 'RemovalPolicy').optional(),
  restartPolicy: enumSchema(RestartPolicy, 'RestartPolicy').optional(),
  authToken: authTokenSchema(),
  internalAuthToken: authTokenSchema(),
  adminAuthToken: authTokenSchema(),
  secretsHostPath: hostDirectorySchema(SECRETS_DIR_ALLOWED),
  backupPath: hostDirectorySchema(BACKUP_DIR_ALLOWED),
  restoreFrom: hostDirectorySchema(BACKUP_DIR_ALLOWED.replace('/var/backups/sessions', '/var/backups/sessions/scheduled-20261201')),
});

/**
 * Checks the Docker-specific props but for `hostPortBase` and the subnet's room (see
 * `validateHostPorts` and `validateSubnetRoom`); throws `ValidationError` naming the prop.
 */
export function validateDockerOptions(props: DockerFleetOptions, fleet: ValidatedFleet): void {
  const valid = parse(dockerOptionsSchema, props, CDKTF_TOKENS,
    ['subnetCidr', 'memoryLimitMiB', 'cpus', 'hostAddress', 'hostPortBase', 'publishPorts', 'allowUnauthenticatedHostAccess', 'secretsHostPath', 'backupPath', 'restoreFrom']);
  const memcached = !fleet.engine.supportsReplication;
  const host = valid.hostAddress;
  if (memcached && (valid.publishPorts ?? true) && host !== undefined && !cidrContains('127.0.0.0/8', host) && valid.allowUnauthenticatedHostAccess !== true) {
    throw new ValidationError('hostAddress', host,
      'must be a loopback address (127.0.0.0/8) for Memcached, which has no AUTH: anyone reaching the host would read and write the cache; set allowUnauthenticatedHostAccess to publish it there anyway');
  }
  for (const name of TOKEN_PROPS) {
    if (valid[name] !== undefined) refuseAuthTokenForMemcached(name, fleet.engine, 'an AuthToken');
  }
  for (const name of ['backupPath', 'restoreFrom'] as const) {
    if (valid[name] !== undefined && memcached) throw new ValidationError(name, valid[name], 'must be unset for Memcached, which keeps no data to back up');
  }
  if ((fleet.backup?.retentionDays ?? 0) > 0 && valid.backupPath === undefined) {
    throw new ValidationError('backupPath', undefined,
      `must be set when snapshotRetentionLimit is above 0 (it is ${fleet.backup!.retentionDays}): the directory of the Docker host where the scheduled backups go`);
  }
  if (valid.secretsHostPath !== undefined) {
    refuseAuthTokenForMemcached('secretsHostPath', fleet.engine, valid.secretsHostPath);
    for (const name of TOKEN_PROPS) {
      if (valid[name] !== undefined) {
        throw new ValidationError(name, 'an AuthToken',
          'must be unset when secretsHostPath is set: the passwords then come from that directory of the Docker host, and none is a Terraform value');
      }
    }
  }
}
