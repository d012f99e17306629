import { describe, expect, it } from 'vitest'
import { UPDATABLE_FIELDS, type Address, type Customer } from '../src/domain/customer.ts'
import { addressChanges, customerChanges as changesOf, renderCustomerField as render } from '../src/domain/field-changes.ts'
import { KNOWN_ENUMS } from '../src/proto/known-enums.ts'

const customerChanges = (before: Customer, after: Customer, fields: Parameters<typeof changesOf>[2]) =>
  changesOf(before, after, fields, KNOWN_ENUMS)
const renderCustomerField = (c: Customer, field: Parameters<typeof render>[1]) => render(c, field, KNOWN_ENUMS)

const HOUSEHOLD = '3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f'
const ADDRESS_ID = '9b1c2d3e-4f50-4a1b-9c2d-3e4f5a6b7c8d'

const customer = (overrides: Partial<Customer> = {}): Customer => ({
  id: '0c5e2f4a-1b3d-4e6f-8a9b-0c1d2e3f4a5b',
  username: 'ada_l',
  displayName: 'Ada',
  firstName: 'Ada',
  lastName: 'Lovelace',
  email: 'ada@example.com',
  phone: '+14155550123',
  preferences: { defaultCustomization: undefined, likes: ['strong'], decafOnly: false },
  dietaryRestrictions: [],
  householdId: null,
  active: true,
  registeredAt: new Date('2024-01-01T00:00:00.000Z'),
  lastLoginAt: null,
  version: 1,
  updatedAt: new Date('2024-01-01T00:00:00.000Z'),
  ...overrides,
})

const address = (overrides: Partial<Address> = {}): Address => ({
  id: ADDRESS_ID,
  customerId: '0c5e2f4a-1b3d-4e6f-8a9b-0c1d2e3f4a5b',
  street: '1 Infinite Loop',
  city: 'Cupertino',
  stateProvince: 'CA',
  postalCode: '95014',
  countryCode: 'US',
  label: 'home',
  createdAt: new Date('2024-01-01T00:00:00.000Z'),
  updatedAt: new Date('2024-01-01T00:00:00.000Z'),
  ...overrides,
})

describe('customerChanges', () => {
  it('when nothing differs, then there are no changes', () => {
    expect(customerChanges(customer(), customer(), UPDATABLE_FIELDS)).toEqual([])
  })

  it('when one field differs, then only that field is reported with its old and new value', () => {
    expect(customerChanges(customer(), customer({ displayName: 'Countess' }), UPDATABLE_FIELDS)).toEqual([
      { field: 'display_name', oldValue: 'Ada', newValue: 'Countess' },
    ])
  })

  it('when fields differ, then they are reported in the order of the given field list', () => {
    const before = customer()
    const after = customer({ username: 'countess', email: 'countess@example.com', lastName: 'King' })
    expect(customerChanges(before, after, UPDATABLE_FIELDS).map((c) => c.field)).toEqual(['username', 'last_name', 'email'])
    expect(customerChanges(before, after, ['email', 'last_name', 'username']).map((c) => c.field)).toEqual([
      'email',
      'last_name',
      'username',
    ])
  })

  it('when a changed field is not in the given list, then it is not reported', () => {
    expect(customerChanges(customer(), customer({ email: 'other@example.com', firstName: 'Augusta' }), ['email'])).toEqual([
      { field: 'email', oldValue: 'ada@example.com', newValue: 'other@example.com' },
    ])
  })

  it('when a non-updatable field such as version or active differs, then it is not reported', () => {
    expect(customerChanges(customer(), customer({ version: 9, active: false, updatedAt: new Date() }), UPDATABLE_FIELDS)).toEqual([])
  })

  it('when the phone or household is cleared, then the missing value renders as empty text', () => {
    expect(customerChanges(customer({ householdId: HOUSEHOLD }), customer({ phone: null }), ['phone', 'household_id'])).toEqual([
      { field: 'phone', oldValue: '+14155550123', newValue: '' },
      { field: 'household_id', oldValue: HOUSEHOLD, newValue: '' },
    ])
  })

  it('when dietary restrictions change, then they render as comma-separated enum names', () => {
    expect(
      customerChanges(customer({ dietaryRestrictions: [1] }), customer({ dietaryRestrictions: [1, 5, 7] }), ['dietary_restrictions']),
    ).toEqual([{ field: 'dietary_restrictions', oldValue: 'DAIRY_FREE', newValue: 'DAIRY_FREE,VEGAN,CAFFEINE_FREE' }])
  })

  it('when a dietary restriction has no known name, then its number is rendered', () => {
    expect(renderCustomerField(customer({ dietaryRestrictions: [2, 42] }), 'dietary_restrictions')).toBe('NUT_ALLERGY,42')
  })

  it('when preferences change, then both values are rendered as JSON', () => {
    const before = customer()
    const after = customer({ preferences: { defaultCustomization: undefined, likes: ['strong', 'seasonal'], decafOnly: true } })
    const [change, ...rest] = customerChanges(before, after, ['preferences'])
    expect(rest).toEqual([])
    expect(change?.field).toBe('preferences')
    expect(JSON.parse(change!.oldValue)).toEqual({ likes: ['strong'], decafOnly: false })
    expect(JSON.parse(change!.newValue)).toEqual({ likes: ['strong', 'seasonal'], decafOnly: true })
  })

  it('when equal preferences are separate objects, then no change is reported', () => {
    const prefs = () => ({
      defaultCustomization: { size: 2, milk: 4, extraShots: 1, syrups: ['vanilla'], temperature: 1, sweetness: 2 },
      likes: ['strong'],
      decafOnly: false,
    })
    expect(customerChanges(customer({ preferences: prefs() }), customer({ preferences: prefs() }), ['preferences'])).toEqual([])
  })

  // BUG (field-changes.ts, renderCustomerField 'preferences'): JSON.stringify depends on key order, and the store reads
  // default_customization back from jsonb, which reorders keys (by length). Equal preferences then look changed, so an
  // identical re-import counts as 'updated' and an update naming 'preferences' bumps the version. Remove `.fails` once fixed.
  it('when equal preferences carry their keys in another order (as jsonb returns them), then no change is reported', () => {
    const asWritten = { size: 2, milk: 4, extraShots: 1, syrups: ['vanilla'], temperature: 1, sweetness: 2 }
    const asReadFromJsonb = { milk: 4, size: 2, syrups: ['vanilla'], sweetness: 2, extraShots: 1, temperature: 1 }
    const before = customer({ preferences: { defaultCustomization: asReadFromJsonb, likes: [], decafOnly: false } })
    const after = customer({ preferences: { defaultCustomization: asWritten, likes: [], decafOnly: false } })
    expect(customerChanges(before, after, ['preferences'])).toEqual([])
  })

  it('when the last login is set, then it renders as an ISO timestamp and unset as empty', () => {
    const at = new Date('2025-03-04T05:06:07.089Z')
    expect(customerChanges(customer(), customer({ lastLoginAt: at }), ['last_login_at'])).toEqual([
      { field: 'last_login_at', oldValue: '', newValue: '2025-03-04T05:06:07.089Z' },
    ])
  })
})

describe('addressChanges', () => {
  it('when nothing differs, then there are no changes', () => {
    expect(addressChanges(address(), address(), ['street', 'city', 'state_province', 'postal_code', 'country_code', 'label'])).toEqual([])
  })

  it('when address fields change, then each is reported under addresses[id] with old and new values in the given order', () => {
    const after = address({ city: 'Lisbon', countryCode: 'PT', postalCode: '1100-148', label: 'work' })
    expect(addressChanges(address(), after, ['label', 'city', 'postal_code', 'country_code', 'street'])).toEqual([
      { field: `addresses[${ADDRESS_ID}].label`, oldValue: 'home', newValue: 'work' },
      { field: `addresses[${ADDRESS_ID}].city`, oldValue: 'Cupertino', newValue: 'Lisbon' },
      { field: `addresses[${ADDRESS_ID}].postal_code`, oldValue: '95014', newValue: '1100-148' },
      { field: `addresses[${ADDRESS_ID}].country_code`, oldValue: 'US', newValue: 'PT' },
    ])
  })

  it('when a changed address field is not in the given list, then it is not reported', () => {
    expect(addressChanges(address(), address({ street: 'Elsewhere', stateProvince: 'NY' }), ['state_province'])).toEqual([
      { field: `addresses[${ADDRESS_ID}].state_province`, oldValue: 'CA', newValue: 'NY' },
    ])
  })
})
