// The fault rules creates matched lately, per account and code. A create on PostgreSQL builds its fault from
// the rule remembered here and writes it in one statement that checks the rule is still exactly that one, so
// nothing needs telling when a rule changes: a create that finds it changed looks it up again.
import type { FaultRule } from './faults.repository.js'

/** Rules remembered per process; past this, the least recently stored go (each costs a lookup when next used). */
const KNOWN_RULES_MAX = 10_000

export interface KnownRules {
  get(accountId: number, code: string): FaultRule | undefined
  set(accountId: number, code: string, rule: FaultRule): void
  forget(accountId: number, code: string): void
}

export function knownRules(max = KNOWN_RULES_MAX): KnownRules {
  const rules = new Map<string, FaultRule>()
  const keyOf = (accountId: number, code: string) => `${accountId}\n${code}`
  return {
    get: (accountId, code) => rules.get(keyOf(accountId, code)),
    set(accountId, code, rule) {
      const key = keyOf(accountId, code)
      rules.delete(key)
      if (rules.size >= max) rules.delete(rules.keys().next().value as string)
      rules.set(key, rule)
    },
    forget: (accountId, code) => {
      rules.delete(keyOf(accountId, code))
    },
  }
}
