import * as z from 'zod/mini';

const envSchema = z.object({
  TABLE_NAME: z.string().check(z.minLength(1)),
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  /** Set only locally and in tests: the DynamoDB Local endpoint (`z.url()` would add 1 KB to every bundle). */
  DYNAMODB_ENDPOINT: z.optional(z.string().check(z.refine((value) => URL.canParse(value)))),
});

export type Config = z.infer<typeof envSchema>;

/** Parses the environment; a missing or bad variable is an error naming it. */
export const parseConfig = (env: Record<string, string | undefined>): Config => {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(`Invalid environment: ${names}`);
  }
  return parsed.data;
};

/**
 * The environment, parsed when this module loads: a function whose TABLE_NAME is missing
 * fails its cold start with the variable's name, not its first request with a vague 500.
 */
export const config: Config = parseConfig(process.env);
