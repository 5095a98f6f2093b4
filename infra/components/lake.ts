import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { childOptions, TYPE } from './common.js';

export interface LakeArgs {
  project: string;
  /** Region of the bucket: the functions' region, so reads and writes stay in one place. */
  location: string;
  bucketName: string;
  /** Raw objects move to Nearline after this many days, then to Coldline. */
  nearlineAfterDays: number;
  coldlineAfterDays: number;
  /** 0 turns soft delete off; otherwise 7-90 days. */
  softDeleteRetentionDays: number;
  /** When false, `pulumi destroy` may delete a bucket that still holds objects. */
  protectData: boolean;
  labels: Record<string, string>;
}

/**
 * The raw lake: every CoinGecko response, kept verbatim under raw/ (ARCHITECTURE.md §3), the one
 * input the warehouse can be rebuilt from.
 *
 * - Uniform bucket-level access and public access prevention enforced: IAM is the only way in, and
 *   no binding can make an object public.
 * - No object versioning: objects are written create-only (ifGenerationMatch=0), never replaced,
 *   so there is no older generation to keep.
 * - Soft delete on (7 days by default): the lake is the only copy of the raw responses, and the
 *   pipeline itself never deletes, so the feature only costs anything after a mistaken delete,
 *   which is exactly when it is wanted.
 * - Lifecycle: raw objects are read once by the load and then only for replays, so they move to
 *   Nearline (30-day minimum storage) and later Coldline; they are never deleted by a rule.
 *   Incomplete multipart uploads are aborted after a day.
 */
export class Lake extends pulumi.ComponentResource {
  readonly bucket: gcp.storage.Bucket;
  readonly bucketName: pulumi.Output<string>;

  constructor(name: string, args: LakeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TYPE}:Lake`, name, {}, opts);
    this.bucket = new gcp.storage.Bucket(
      `${name}-raw`,
      {
        project: args.project,
        name: args.bucketName,
        location: args.location.toUpperCase(),
        storageClass: 'STANDARD',
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        versioning: { enabled: false },
        softDeletePolicy: { retentionDurationSeconds: args.softDeleteRetentionDays * 86_400 },
        lifecycleRules: [
          {
            action: { type: 'SetStorageClass', storageClass: 'NEARLINE' },
            condition: {
              age: args.nearlineAfterDays,
              matchesPrefixes: ['raw/'],
              matchesStorageClasses: ['STANDARD'],
            },
          },
          {
            action: { type: 'SetStorageClass', storageClass: 'COLDLINE' },
            condition: {
              age: args.coldlineAfterDays,
              matchesPrefixes: ['raw/'],
              matchesStorageClasses: ['NEARLINE'],
            },
          },
          { action: { type: 'AbortIncompleteMultipartUpload' }, condition: { age: 1 } },
        ],
        forceDestroy: !args.protectData,
        labels: args.labels,
      },
      childOptions(this, opts),
    );
    this.bucketName = this.bucket.name;
    this.registerOutputs({ bucketName: this.bucketName });
  }
}
