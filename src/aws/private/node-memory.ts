import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * The memory of the burstable sizes, GiB (EC2's published figures; the same for t2, t3, t3a and t4g).
 */
const BURSTABLE_GIB: Readonly<Record<string, number>> = {
  'nano': 0.5,
  'micro': 1,
  'small': 2,
  'medium': 4,
  'large': 8,
  'xlarge': 16,
  '2xlarge': 32,
};

/**
 * Memory per vCPU, GiB, of the fixed-ratio families EC2 publishes: compute (c) 2, general purpose
 * (m) 4, memory optimized (r, z1d) 8, x2gd 16. Every generation from 5 to 8 and every suffix
 * (`g`, `gd`, `i`, `a`, `n`, `-flex`…) keeps its letter's ratio.
 */
const GIB_PER_VCPU: ReadonlyArray<[RegExp, number]> = [
  [/^c[5-8][a-z-]*$/, 2],
  [/^m[5-8][a-z-]*$/, 4],
  [/^(r[5-8][a-z-]*|z1d)$/, 8],
  [/^x2gd$/, 16],
];

/** vCPUs of a size name: medium 1, large 2, xlarge 4, Nxlarge 4N. */
function vcpusOf(size: string): number | undefined {
  if (size === 'medium') return 1;
  if (size === 'large') return 2;
  const match = /^(\d*)xlarge$/.exec(size);
  return match ? 4 * Number(match[1] || '1') : undefined;
}

/**
 * The memory of an EC2 instance type, GiB, or undefined for a type this table does not know
 * (metal sizes, families outside c, m, r, t, x2gd and z1d).
 */
export function instanceMemoryGiB(instanceType: ec2.InstanceType): number | undefined {
  const [family, size] = instanceType.toString().split('.');
  if (/^t[2-4][a-z]*$/.test(family)) return BURSTABLE_GIB[size];
  const ratio = GIB_PER_VCPU.find(([pattern]) => pattern.test(family))?.[1];
  const vcpus = vcpusOf(size ?? '');
  return ratio !== undefined && vcpus !== undefined ? ratio * vcpus : undefined;
}
