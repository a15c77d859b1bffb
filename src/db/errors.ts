// Constraint violations recognised by code on both engines (never by message text).

interface DriverError {
  code?: string
  /** PostgreSQL (postgres.js): the constraint a violation names. */
  constraint_name?: string
}

/** PostgreSQL 23505; SQLite SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as DriverError | null)?.code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

/** PostgreSQL 23503; SQLite SQLITE_CONSTRAINT_FOREIGNKEY. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as DriverError | null)?.code
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
}

/** The constraint a violation names, where the driver says (PostgreSQL); undefined otherwise. */
export function violatedConstraint(error: unknown): string | undefined {
  return (error as DriverError | null)?.constraint_name
}
