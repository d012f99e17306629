import type { OutboxTable, ProcessedEventsTable } from '@brewmesh/runtime/db'
import type { ColumnType } from 'kysely'
import type { DrinkCustomization } from '../domain/favorite.ts'

/** Tables of the favorites schema, as kysely sees them. */
export interface FavoritesDb {
  customers: CustomersTable
  favorites: FavoritesTable
  add_requests: AddRequestsTable
  client_changes: ClientChangesTable
  drink_completions: DrinkCompletionsTable
  outbox: OutboxTable
  processed_events: ProcessedEventsTable
}

/** One row per customer with favorites history: the revision counter and the row every change locks. */
export interface CustomersTable {
  customer_id: string
  revision: number
  pruned_through: number
  deleted_at: Date | null
}

type Json<T> = ColumnType<T, string, string>

export interface FavoritesTable {
  id: string
  customer_id: string
  menu_item_id: string
  display_name: string
  customization: Json<DrinkCustomization>
  drink_key: string
  nickname: string
  position: number
  revision: number
  created_revision: number
  pinned: boolean
  created_at: Date
  updated_at: Date
  updated_by: Json<{ kind: number; id: string }>
  updated_from_device_id: string
  removed_at: Date | null
  removal_reason: string
}

export interface AddRequestsTable {
  request_id: string
  request_hash: string
  favorite_id: string
  created_at: Date
}

export interface ClientChangesTable {
  customer_id: string
  device_id: string
  client_change_id: string
  ack: Json<unknown>
  created_at: Date
}

export interface DrinkCompletionsTable {
  customer_id: string
  order_id: string
  drink_key: string
  menu_item_id: string
  display_name: string
  customization: Json<DrinkCustomization>
  completed_at: Date
}
