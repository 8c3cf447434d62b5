import { Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ValidationError } from '../core/errors';

/**
 * A backup set a new fleet's nodes restore from: one RDB per shard and a manifest under a prefix,
 * as the node agent writes them (`<fleet>/<backup id>` under the fleet's backup location).
 */
export class BackupSource {
  /**
   * A backup set in an S3 bucket.
   *
   * @param bucket the bucket that holds the backup set
   * @param prefix the backup set's prefix, without a leading or trailing slash, at most
   * 256 characters (the nodes' role names it), such as `orders/scheduled-20261201`
   */
  public static fromS3(bucket: s3.IBucket, prefix: string): BackupSource {
    if (typeof bucket !== 'object' || bucket === null || typeof bucket.bucketName !== 'string') {
      throw new ValidationError('restoreFrom.bucket', bucket, 'must be an s3.IBucket');
    }
    if (typeof prefix !== 'string' || (!Token.isUnresolved(prefix) && (!VALID_PREFIX.test(prefix) || prefix.length > MAX_PREFIX_LENGTH))) {
      throw new ValidationError('restoreFrom.prefix', prefix,
        `must be the prefix of one backup set, 1 to ${MAX_PREFIX_LENGTH} characters without a leading or trailing slash, such as 'orders/scheduled-20261201'`);
    }
    return new BackupSource(bucket, prefix);
  }

  /** The bucket that holds the backup set. */
  public readonly bucket: s3.IBucket;
  /** The backup set's prefix, without a leading or trailing slash. */
  public readonly prefix: string;

  private constructor(bucket: s3.IBucket, prefix: string) {
    this.bucket = bucket;
    this.prefix = prefix;
  }

  /** The backup set as the nodes read it: `s3://<bucket>/<prefix>`. */
  public get s3Url(): string {
    return `s3://${this.bucket.bucketName}/${this.prefix}`;
  }
}

/**
 * The longest prefix: the nodes' role names it three times, and the role's inline policies have a
 * fixed size (src/aws/private/capacity.ts). A set the agent writes has at most 104 (a 40-character
 * fleet name, a slash, a 63-character backup id).
 */
const MAX_PREFIX_LENGTH = 256;

/** Not empty, no slash at either end, no empty segment. */
const VALID_PREFIX = /^[^/]+(\/[^/]+)*$/;
