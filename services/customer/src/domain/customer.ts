/** The customer model as the domain sees it: plain data, no transport or storage types. */

export interface DrinkCustomization {
  size: number
  milk: number
  extraShots: number
  syrups: string[]
  temperature: number
  sweetness: number
}

export interface Preferences {
  defaultCustomization: DrinkCustomization | undefined
  likes: string[]
  decafOnly: boolean
}

export interface Customer {
  id: string
  username: string
  displayName: string
  firstName: string
  lastName: string
  email: string
  phone: string | null
  preferences: Preferences
  /** DietaryRestriction enum values, sorted, no duplicates. */
  dietaryRestrictions: number[]
  householdId: string | null
  active: boolean
  registeredAt: Date
  lastLoginAt: Date | null
  version: number
  updatedAt: Date
}

export interface Address {
  id: string
  customerId: string
  street: string
  city: string
  stateProvince: string
  postalCode: string
  countryCode: string
  label: string
  createdAt: Date
  updatedAt: Date
}

/** The profile fields a caller provides (create, import, update). */
export interface ProfileInput {
  username: string
  displayName: string
  firstName: string
  lastName: string
  email: string
  phone: string
  preferences: Preferences | undefined
  dietaryRestrictions: number[]
  householdId: string
}

export interface AddressInput {
  street: string
  city: string
  stateProvince: string
  postalCode: string
  countryCode: string
  label: string
}

export interface FieldChange {
  field: string
  oldValue: string
  newValue: string
}

/** What happened to a customer; each becomes one event on the customer topic. */
export type CustomerChange =
  | { kind: 'created'; customer: Customer }
  | { kind: 'updated'; customer: Customer; changes: FieldChange[] }
  | { kind: 'deleted'; customer: Customer }
  | { kind: 'activated'; customer: Customer }
  | { kind: 'deactivated'; customer: Customer; reason: string }
  | { kind: 'address_added'; customer: Customer; address: Address }
  | { kind: 'address_updated'; customer: Customer; address: Address; changes: FieldChange[] }
  | { kind: 'address_removed'; customer: Customer; address: Address }

/**
 * What the rules know of the contract's enums (DrinkSize, MilkType, Temperature,
 * DietaryRestriction): the values a request may carry, and the name a dietary restriction has in a
 * FieldChange. domain/ loads no generated code, so proto/known-enums.ts builds this from the
 * generated enums: a value added to the contract needs no change here.
 */
export interface KnownEnums {
  /** The values a drink customization may hold (UNSPECIFIED, the default, included). */
  size: ReadonlySet<number>
  milk: ReadonlySet<number>
  temperature: ReadonlySet<number>
  /** The restrictions a customer may have (UNSPECIFIED is none), by value, with their short names ("DAIRY_FREE"). */
  dietary: ReadonlyMap<number, string>
}

export const UPDATABLE_FIELDS = [
  'username',
  'display_name',
  'first_name',
  'last_name',
  'email',
  'phone',
  'preferences',
  'dietary_restrictions',
  'household_id',
] as const
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number]

export const ADDRESS_FIELDS = ['street', 'city', 'state_province', 'postal_code', 'country_code', 'label'] as const
export type AddressField = (typeof ADDRESS_FIELDS)[number]
