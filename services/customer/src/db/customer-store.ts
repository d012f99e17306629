import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import { enqueue, type OutboxMessage } from '@brewmesh/runtime/db'
import { alreadyExists } from '@brewmesh/runtime/errors'
import type { Address, Customer, CustomerChange } from '../domain/customer.ts'
import type { CustomerPage, CustomerQuery, CustomerStore, CustomerTx } from '../domain/ports.ts'
import type { AddressesTable, CustomerDb, CustomersTable } from './schema.ts'

const UNIQUE_FIELDS: Record<string, string> = {
  customers_email_unique: 'email',
  customers_username_unique: 'username',
}

/** Turns a unique violation on email or username into ALREADY_EXISTS naming the field. */
function rethrowDuplicate(err: unknown): never {
  const { code, constraint } = err as { code?: string; constraint?: string }
  const field = constraint ? UNIQUE_FIELDS[constraint] : undefined
  if (code === '23505' && field) throw alreadyExists(`a customer with this ${field} already exists`, field)
  throw err
}

function toCustomer(row: Selectable<CustomersTable>): Customer {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    phone: row.phone,
    preferences: {
      defaultCustomization: row.preferences.defaultCustomization,
      likes: row.preferences.likes ?? [],
      decafOnly: row.preferences.decafOnly ?? false,
    },
    dietaryRestrictions: row.dietary_restrictions,
    householdId: row.household_id,
    active: row.active,
    registeredAt: row.registered_at,
    lastLoginAt: row.last_login_at,
    version: row.version,
    updatedAt: row.updated_at,
  }
}

function customerRow(c: Customer) {
  return {
    id: c.id,
    username: c.username,
    display_name: c.displayName,
    first_name: c.firstName,
    last_name: c.lastName,
    email: c.email,
    phone: c.phone,
    preferences: JSON.stringify(c.preferences),
    dietary_restrictions: c.dietaryRestrictions,
    household_id: c.householdId,
    active: c.active,
    registered_at: c.registeredAt,
    last_login_at: c.lastLoginAt,
    version: c.version,
    updated_at: c.updatedAt,
  }
}

function toAddress(row: Selectable<AddressesTable>): Address {
  return {
    id: row.id,
    customerId: row.customer_id,
    street: row.street,
    city: row.city,
    stateProvince: row.state_province,
    postalCode: row.postal_code,
    countryCode: row.country_code,
    label: row.label,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

function addressRow(a: Address) {
  return {
    id: a.id,
    customer_id: a.customerId,
    street: a.street,
    city: a.city,
    state_province: a.stateProvince,
    postal_code: a.postalCode,
    country_code: a.countryCode,
    label: a.label,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  }
}

/** PostgreSQL implementation of the domain's store; events go to the outbox in the same transaction. */
export function customerStore(db: Kysely<CustomerDb>, schema: string, toOutbox: (change: CustomerChange) => OutboxMessage): CustomerStore {
  const txFor = (trx: Transaction<CustomerDb>): CustomerTx => ({
    async customer(id, lock) {
      let q = trx.selectFrom('customers').selectAll().where('id', '=', id)
      if (lock) q = q.forUpdate()
      const row = await q.executeTakeFirst()
      return row && toCustomer(row)
    },
    async matchForImport(email, username) {
      const row = await trx
        .selectFrom('customers')
        .selectAll()
        .where((eb) => eb.or([eb(sql`lower(email)`, '=', email.toLowerCase()), eb('username', '=', username)]))
        .orderBy(sql`lower(email) = ${email.toLowerCase()}`, 'desc')
        .limit(1)
        .executeTakeFirst()
      return row && toCustomer(row)
    },
    async insertCustomer(customer) {
      await trx.insertInto('customers').values(customerRow(customer)).execute().catch(rethrowDuplicate)
    },
    async updateCustomer(customer) {
      const { id, ...rest } = customerRow(customer)
      await trx.updateTable('customers').set(rest).where('id', '=', id).execute().catch(rethrowDuplicate)
    },
    async deleteCustomer(id) {
      await trx.deleteFrom('customers').where('id', '=', id).execute()
    },
    async address(id, lock) {
      let q = trx.selectFrom('addresses').selectAll().where('id', '=', id)
      if (lock) q = q.forUpdate()
      const row = await q.executeTakeFirst()
      return row && toAddress(row)
    },
    async insertAddress(address) {
      await trx.insertInto('addresses').values(addressRow(address)).execute()
    },
    async updateAddress(address) {
      const { id, ...rest } = addressRow(address)
      await trx.updateTable('addresses').set(rest).where('id', '=', id).execute()
    },
    async deleteAddress(id) {
      await trx.deleteFrom('addresses').where('id', '=', id).execute()
    },
    async claimRequest(key, requestHash, customerId) {
      const claimed = await trx
        .insertInto('idempotency_keys')
        .values({ key, request_hash: requestHash, customer_id: customerId })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .executeTakeFirst()
      if (claimed) return undefined
      const earlier = await trx
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'customer_id'])
        .where('key', '=', key)
        .executeTakeFirstOrThrow()
      return { requestHash: earlier.request_hash, customerId: earlier.customer_id }
    },
    async savepoint(work) {
      await sql`savepoint import_row`.execute(trx)
      try {
        const result = await work()
        await sql`release savepoint import_row`.execute(trx)
        return result
      } catch (err) {
        await sql`rollback to savepoint import_row`.execute(trx)
        throw err
      }
    },
    async record(change) {
      await enqueue(trx, schema, [toOutbox(change)])
    },
  })

  return {
    transaction: (work) => db.transaction().execute((trx) => work(txFor(trx))),
    async customer(id) {
      const row = await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toCustomer(row)
    },
    async customers(query: CustomerQuery): Promise<CustomerPage> {
      let q = db.selectFrom('customers').selectAll()
      if (query.householdId) q = q.where('household_id', '=', query.householdId)
      if (query.active !== undefined) q = q.where('active', '=', query.active)
      if (query.after) {
        const { registeredAt, id } = query.after
        q = q.where((eb) => eb(eb.refTuple('registered_at', 'id'), '>', eb.tuple(registeredAt, id)))
      }
      const rows = await q
        .orderBy('registered_at')
        .orderBy('id')
        .limit(query.limit + 1)
        .execute()
      const customers = rows.slice(0, query.limit).map(toCustomer)
      const last = customers.at(-1)
      return { customers, next: rows.length > query.limit && last ? { registeredAt: last.registeredAt, id: last.id } : undefined }
    },
    async addresses(customerId) {
      const rows = await db
        .selectFrom('addresses')
        .selectAll()
        .where('customer_id', '=', customerId)
        .orderBy('created_at')
        .orderBy('id')
        .execute()
      return rows.map(toAddress)
    },
  }
}
