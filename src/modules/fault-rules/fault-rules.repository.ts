// Fault rule rows, always within one account; codes are unique per account (the constraint decides).
import type { Kysely, Selectable, Transaction } from 'kysely'
import { type DB, type FaultRulesTable, toIso } from '../../db/schema.js'
import type { CreateFaultRule, FaultRule, UpdateFaultRule } from './fault-rules.schemas.js'

const columns = ['id', 'created_at', 'updated_at', 'account_id', 'code', 'name', 'description', 'priority_handling'] as const

export function toFaultRule(row: Pick<Selectable<FaultRulesTable>, (typeof columns)[number]>): FaultRule {
  return { ...row, created_at: toIso(row.created_at), updated_at: toIso(row.updated_at) }
}

export function faultRulesQuery(db: Kysely<DB>, accountId: number) {
  return db.selectFrom('fault_rules').select(columns).where('account_id', '=', accountId)
}

export async function findFaultRule(db: Kysely<DB>, accountId: number, id: number) {
  return faultRulesQuery(db, accountId).where('id', '=', id).executeTakeFirst()
}

export async function insertFaultRule(db: Kysely<DB>, accountId: number, input: CreateFaultRule, options: { isSample?: boolean } = {}) {
  const now = new Date().toISOString()
  return db
    .insertInto('fault_rules')
    .values({
      account_id: accountId,
      code: input.code,
      name: input.name ?? null,
      description: input.description ?? null,
      priority_handling: input.priority_handling ?? null,
      is_sample: options.isSample ? 1 : 0,
      created_at: now,
      updated_at: now,
    })
    .returning(columns)
    .executeTakeFirstOrThrow()
}

export async function updateFaultRule(trx: Transaction<DB>, accountId: number, id: number, changes: UpdateFaultRule) {
  return trx
    .updateTable('fault_rules')
    .set({ ...changes, updated_at: new Date().toISOString() })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirstOrThrow()
}

/** Deletes a rule; raises the driver's foreign-key violation while faults still use it. */
export async function deleteFaultRule(trx: Transaction<DB>, accountId: number, id: number): Promise<void> {
  await trx.deleteFrom('fault_rules').where('account_id', '=', accountId).where('id', '=', id).execute()
}
