import type { Address, AddressField, Customer, FieldChange, KnownEnums, UpdatableField } from './customer.ts'

/** JSON with object keys sorted, so equal values render equally whatever order storage returned. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  )
}

/** A field's value as text, the way FieldChange carries it (enums by name; a number the contract does not name, as the number). */
export function renderCustomerField(c: Customer, field: UpdatableField | 'last_login_at', enums: KnownEnums): string {
  switch (field) {
    case 'username':
      return c.username
    case 'display_name':
      return c.displayName
    case 'first_name':
      return c.firstName
    case 'last_name':
      return c.lastName
    case 'email':
      return c.email
    case 'phone':
      return c.phone ?? ''
    case 'preferences':
      return canonicalJson(c.preferences)
    case 'dietary_restrictions':
      return c.dietaryRestrictions.map((d) => enums.dietary.get(d) ?? String(d)).join(',')
    case 'household_id':
      return c.householdId ?? ''
    case 'last_login_at':
      return c.lastLoginAt?.toISOString() ?? ''
  }
}

export function customerChanges(
  before: Customer,
  after: Customer,
  fields: readonly (UpdatableField | 'last_login_at')[],
  enums: KnownEnums,
): FieldChange[] {
  return fields.flatMap((field) => {
    const oldValue = renderCustomerField(before, field, enums)
    const newValue = renderCustomerField(after, field, enums)
    return oldValue === newValue ? [] : [{ field, oldValue, newValue }]
  })
}

const addressValue = (a: Address, field: AddressField): string =>
  ({
    street: a.street,
    city: a.city,
    state_province: a.stateProvince,
    postal_code: a.postalCode,
    country_code: a.countryCode,
    label: a.label,
  })[field]

export function addressChanges(before: Address, after: Address, fields: readonly AddressField[]): FieldChange[] {
  return fields.flatMap((field) => {
    const oldValue = addressValue(before, field)
    const newValue = addressValue(after, field)
    return oldValue === newValue ? [] : [{ field: `addresses[${after.id}].${field}`, oldValue, newValue }]
  })
}
