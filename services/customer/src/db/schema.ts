import type { ColumnType, Generated } from 'kysely'
import type { OutboxTable, ProcessedEventsTable } from '@brewmesh/runtime/db'

/** Tables of the customer schema, as kysely sees them. */
export interface CustomerDb {
  customers: CustomersTable
  addresses: AddressesTable
  idempotency_keys: IdempotencyKeysTable
  outbox: OutboxTable
  processed_events: ProcessedEventsTable
  order_facts: OrderFactsTable
  stats_archive: StatsArchiveTable
  customer_stats: CustomerStatsTable
}

export interface OrderFactsTable {
  order_id: string
  customer_id: string
  placed_at: Date
  status: string
  spent_minor: ColumnType<string, number, number>
  currency: string
  drinks: ColumnType<unknown, string, string>
  version: number
  updated_at: Generated<Date>
}

export interface StatsArchiveTable {
  customer_id: string
  month: string
  aggregate: ColumnType<unknown, string, string>
}

export interface CustomerStatsTable {
  customer_id: string
  stats: ColumnType<unknown, string, string>
  computed_at: Date
}

export interface CustomersTable {
  id: string
  username: string
  display_name: string
  first_name: string
  last_name: string
  email: string
  phone: string | null
  preferences: ColumnType<PreferencesJson, string, string>
  dietary_restrictions: number[]
  household_id: string | null
  active: boolean
  registered_at: Date
  last_login_at: Date | null
  version: number
  updated_at: Date
}

export interface PreferencesJson {
  defaultCustomization?: {
    size: number
    milk: number
    extraShots: number
    syrups: string[]
    temperature: number
    sweetness: number
  }
  likes: string[]
  decafOnly: boolean
}

export interface AddressesTable {
  id: string
  customer_id: string
  street: string
  city: string
  state_province: string
  postal_code: string
  country_code: string
  label: string
  created_at: Date
  updated_at: Date
}

export interface IdempotencyKeysTable {
  key: string
  request_hash: string
  customer_id: string
  created_at: Generated<Date>
}
