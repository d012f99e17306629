import type { ColumnType, Generated } from 'kysely'
import type { OutboxTable, ProcessedEventsTable } from '@brewmesh/runtime/db'

/**
 * Tables of the order schema, as kysely sees them. orders.doc holds the domain Order as JSON
 * (db/order-doc.ts, since migration 0003); menu_items.doc the contract's MenuItem JSON, as the first
 * migration seeded it. The integer status columns hold the contract's enum values, passed as
 * generated constants.
 */
export interface OrderDb {
  menu_items: MenuItemsTable
  orders: OrdersTable
  barista_commands: BaristaCommandsTable
  customer_facts: CustomerFactsTable
  outbox: OutboxTable
  processed_events: ProcessedEventsTable
}

type Json = ColumnType<unknown, string, string>

export interface MenuItemsTable {
  id: string
  category: string
  sort_order: number
  name: string
  doc: Json
}

export interface OrdersTable {
  id: string
  request_id: string
  request_hash: string
  customer_id: string
  household_id: string | null
  status: number
  barista_id: string | null
  placed_at: Date
  paid_at: Date | null
  payment_status: number
  version: number
  doc: Json
  /** The placement's W3C traceparent (its payment continues that trace); null when untraced. */
  traceparent: string | null
}

export interface BaristaCommandsTable {
  barista_id: string
  command_id: string
  answer: Buffer
  created_at: Generated<Date>
}

/** A customer as this service last heard of them (migration 0006): a higher version replaces a row. */
export interface CustomerFactsTable {
  customer_id: string
  display_name: string
  household_id: string | null
  active: boolean
  deleted: boolean
  version: number
  heard_at: Generated<Date>
}
