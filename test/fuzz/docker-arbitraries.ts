import { Fn, TerraformVariable, Token } from 'cdktf';
import fc from 'fast-check';
import { FleetConstruct, fleetOptions, integerProp } from './core-arbitraries';
import { constants, depends, Draw, invalid, made, mix, Pick, Tokens, valid } from './picks';
import { AuthToken, RestartPolicy } from '../../src/docker';

/** cdktf's own tokens: the Docker flavor must call them unresolved. */
export const CDKTF_TOKENS: Tokens = {
  number: () => Token.asNumber(Fn.lengthOf(Fn.keys({}))),
  string: () => Fn.lower('X'),
};

/** An IPv4 address, valid or not: octets past 255 and leading zeros are refused. */
const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('256', '999', '01', '-1', ''));
const address = fc.tuple(octet, octet, octet, octet).map((octets) => octets.join('.'));

function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255 && String(Number(part)) === part);
}

/** A subnet: its validity also depends on the number of containers (the model settles it). */
const cidr = fc.tuple(address, fc.integer({ min: 0, max: 33 })).map(([base, prefix]) => `${base}/${prefix}`);

function subnets(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    fc.oneof(
      { arbitrary: fc.constantFrom('172.28.0.0/24', '10.0.0.0/16', '10.1.2.0/28', '192.168.7.0/27', '192.168.8.0/26', '10.0.0.0/8').map((text) => depends(text)), weight: 6 },
      { arbitrary: cidr.map((text) => depends(text)), weight: 1 },
    ),
    fc.oneof(
      fc.constantFrom('172.28.0.0', '10.0.0.0/31', '::1/64', 'nope', '').map((text) => invalid(text)),
      fc.string({ maxLength: 20 }).filter((text) => !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(text)).map((text) => invalid(text)),
      constants('invalid', [24, null, {}]),
      fc.constant(null).map(() => invalid(CDKTF_TOKENS.string(), 'a string token')),
    ),
    validWeight,
  );
}

function cpus(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    fc.oneof(fc.constantFrom(0.01, 0.5, 1, 2, 1024), fc.double({ min: Number.MIN_VALUE, max: 1024, noNaN: true })).map((n) => valid(n)),
    fc.oneof(
      constants('invalid', [0, -0, -1, 1024.5, 1e9, Number.NaN, Number.POSITIVE_INFINITY, '2', null, true]),
      fc.constant(null).map(() => invalid(CDKTF_TOKENS.number(), 'a number token')),
    ),
    validWeight,
  );
}

function booleans(validWeight: number): fc.Arbitrary<Pick> {
  return mix(fc.boolean().map((b) => valid(b)), constants('invalid', ['yes', 'false', 0, 1, null]), validWeight);
}

function hostAddresses(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    // Loopback most often: a Memcached fleet is refused any other address unless it asks.
    fc.oneof(
      { arbitrary: fc.constantFrom('127.0.0.1', '127.0.0.2'), weight: 3 },
      { arbitrary: fc.constantFrom('0.0.0.0', '192.168.1.20'), weight: 1 },
      { arbitrary: fc.ipV4(), weight: 1 },
    ).map((text) => valid(text)),
    fc.oneof(
      address.filter((text) => !isIpv4(text)).map((text) => invalid(text)),
      constants('invalid', ['localhost', '::1', '1.2.3', '127.0.0.1:80', ' 127.0.0.1', null, 127]),
      fc.constant(null).map(() => invalid(CDKTF_TOKENS.string(), 'a string token')),
    ),
    validWeight,
  );
}

/** The first host port: the top of its range depends on the number of containers and on publishPorts. */
function hostPortBases(validWeight: number): fc.Arbitrary<Pick> {
  return integerProp(1, 65535, CDKTF_TOKENS, validWeight).map((drawn) => (drawn.verdict === 'valid' && drawn.label !== 'unset' ? { ...drawn, verdict: 'depends' as const } : drawn));
}

function restartPolicies(validWeight: number): fc.Arbitrary<Pick> {
  return mix(constants('valid', Object.values(RestartPolicy)), constants('invalid', ['often', 'ALWAYS', null, 1]), validWeight);
}

/**
 * An AUTH token: from a variable or a file (Memcached takes none: the model settles it), or a
 * literal. `AuthToken.fromFile` cannot know which prop its token is for: it names itself.
 */
function authTokens(validWeight: number): fc.Arbitrary<Pick> {
  return mix(
    fc.oneof(
      fc.constant(made('depends', 'AuthToken.fromVariable', (scope) =>
        AuthToken.fromVariable(new TerraformVariable(scope, `Token${scope.node.children.length}`, { type: 'string', sensitive: true })))),
      fc.constantFrom('/run/secrets/token', 'token.txt').map((path) => made('depends', `AuthToken.fromFile(${path})`, () => AuthToken.fromFile(path))),
    ),
    fc.oneof(
      constants('invalid', ['a-literal-token-1234567', null, {}, { value: 'x' }]),
      fc.constantFrom('', ' ').map((path) => made('invalid', `AuthToken.fromFile(${JSON.stringify(path)})`, () => AuthToken.fromFile(path), ['AuthToken.fromFile(path)'])),
    ),
    validWeight,
  );
}

/** The props of a Docker fleet: the engine-neutral ones and DockerFleetOptions. */
export function dockerFleetProps(construct: FleetConstruct, validWeight: number): fc.Arbitrary<Draw> {
  const docker = fc.record({
    subnetCidr: subnets(validWeight),
    memoryLimitMiB: integerProp(32, 1_048_576, CDKTF_TOKENS, validWeight),
    cpus: cpus(validWeight),
    publishPorts: booleans(validWeight),
    hostAddress: hostAddresses(validWeight),
    hostPortBase: hostPortBases(validWeight),
    restartPolicy: restartPolicies(validWeight),
    authToken: authTokens(validWeight),
    internalAuthToken: authTokens(validWeight),
  });
  return fc.tuple(fleetOptions(construct, CDKTF_TOKENS, validWeight), docker).map(([fleet, own]) => ({ ...fleet, ...own }));
}
