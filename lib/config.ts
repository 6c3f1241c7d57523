import { z } from 'zod';

const envSchema = z.object({
  TABLE_NAME: z.string().min(1),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** Set only locally and in tests: the DynamoDB Local endpoint. */
  DYNAMODB_ENDPOINT: z.url().optional(),
});

export type Config = z.infer<typeof envSchema>;

let cached: Config | undefined;

/**
 * The environment, parsed once per cold start. A missing or bad variable fails the
 * cold start with the variable's name, not a request later with a vague error.
 */
export const config = (): Config => {
  if (cached) return cached;
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(`Invalid environment: ${names}`);
  }
  cached = parsed.data;
  return cached;
};
