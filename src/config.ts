// Every setting of the server: one TypeBox schema, read once from the environment, frozen.
import { type Static, Type } from 'typebox'
import { Value } from 'typebox/value'

/** The embedded default: a SQLite file in ./data, created on first start. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/fleet-faults.db'

export const ConfigSchema = Type.Object({
  /** 3000: the conventional Node API port, free on a developer machine. */
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  /** Loopback by default: an operator opts into exposure by setting 0.0.0.0. */
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** The embedded SQLite file needs no setup; postgres:// is for production and replicas. */
  DATABASE_URL: Type.String({
    pattern: '^(sqlite:.+|postgres(ql)?://.+)$',
    default: DEFAULT_DATABASE_URL,
    description: 'sqlite:<path>, sqlite::memory: or postgres://…',
  }),
  /** NORMAL with WAL survives a process crash; FULL also survives power loss, at a write cost. */
  SQLITE_SYNCHRONOUS: Type.Union([Type.Literal('NORMAL'), Type.Literal('FULL')], { default: 'NORMAL' }),
  /** Unset: counters live in this process. Set it when several replicas must share one budget. */
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://.+' })),
  /** Namespace of this deployment's keys in Redis, so several deployments (or test runs) can share one. */
  REDIS_KEY_PREFIX: Type.String({ pattern: '^[A-Za-z0-9:_.-]{1,64}$', default: 'fleet-faults:' }),
  /** 600 a minute: generous for interactive tools, still a brake on a runaway integration. */
  RATE_LIMIT_QUOTA: Type.Integer({ minimum: 1, default: 600 }),
  RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
  /** Failed authentications allowed per client address per window: keys cannot be guessed at speed. */
  AUTH_FAILURE_LIMIT: Type.Integer({ minimum: 1, default: 30 }),
  /** 1000 records keeps one job's body around 1 MiB of faults and a batch well under a second. */
  BULK_MAX_RECORDS: Type.Integer({ minimum: 1, maximum: 100000, default: 1000 }),
  /**
   * Records of a bulk job applied in one transaction (and stored in one row). 250 measured the best
   * throughput on both engines: smaller batches spend more on each transaction's bookkeeping, larger
   * ones gain nothing, and a batch stays a few milliseconds to a few hundred, far inside the 10 s lease.
   */
  BULK_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 10000, default: 250 }),
  /** Days bulk jobs and their results are kept before they are purged. */
  BULK_RETENTION_DAYS: Type.Integer({ minimum: 1, default: 7 }),
  /** Hours an Idempotency-Key is remembered: 24 as the IETF draft and Stripe do. */
  IDEMPOTENCY_TTL_HOURS: Type.Integer({ minimum: 1, default: 24 }),
  /** HS256 secret for OAuth access tokens; unset: generated once and kept in the data directory. */
  TOKEN_SIGNING_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  /**
   * Seconds a checked credential is remembered (0: checked on every request). Revoking it empties the
   * cache of every process at once; this bounds how long a lost notice could leave it usable.
   */
  CREDENTIALS_CACHE_SECONDS: Type.Integer({ minimum: 0, maximum: 300, default: 10 }),
  /** Access tokens live 15 minutes: short enough that a leaked one soon expires. */
  TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86400, default: 900 }),
  /**
   * How far (percent) the heap may grow past what is live before a full garbage collection. V8's own
   * policy lets it grow up to 4x: under a load of list pages on PostgreSQL the server held 250 MB of RSS
   * with 40 MB live, and its large collections cost throughput. At 100 it held 160-170 MB and served more
   * (bench, 6 runs: 50 cost throughput, 0 cost both). 0: V8's own policy.
   */
  HEAP_GROWING_PERCENT: Type.Integer({ minimum: 0, maximum: 1000, default: 100 }),
  MAINTENANCE_MODE: Type.Boolean({ default: false }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
})

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {}

/** Validates the environment against the schema; throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const known = Object.keys(ConfigSchema.properties)
  const raw: Record<string, unknown> = {}
  for (const name of known) {
    const value = env[name]
    if (value !== undefined && value !== '') raw[name] = value
  }
  const candidate = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw))
  const errors = [...Value.Errors(ConfigSchema, candidate)]
  if (errors.length > 0) {
    const lines = errors.map((error) => {
      const name = error.instancePath.replace(/^\//, '') || 'environment'
      return `${name}=${JSON.stringify(raw[name] ?? '')}: ${error.message}`
    })
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  return Object.freeze(candidate as Config)
}
