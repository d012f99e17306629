import { describe, expect, it } from 'vitest'
import { AppError, type Violations } from '@brewmesh/runtime/errors.ts'
import type { AddressInput, DrinkCustomization, ProfileInput } from '../src/domain/customer.ts'
import { isUuid, uuidOf } from '@brewmesh/runtime/ids'
import { addressViolations, normalizeAddress, normalizeProfile, profileViolations as violationsOf } from '../src/domain/validation.ts'
import { KNOWN_ENUMS } from '../src/proto/known-enums.ts'

const profileViolations = (p: ProfileInput, only?: ReadonlySet<string>) => violationsOf(p, KNOWN_ENUMS, only)

const HOUSEHOLD = '3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f'

const profile = (overrides: Partial<ProfileInput> = {}): ProfileInput => ({
  username: 'ada_l',
  displayName: 'Ada',
  firstName: 'Ada',
  lastName: 'Lovelace',
  email: 'ada@example.com',
  phone: '+14155550123',
  preferences: undefined,
  dietaryRestrictions: [],
  householdId: '',
  ...overrides,
})

const customization = (overrides: Partial<DrinkCustomization> = {}): DrinkCustomization => ({
  size: 2,
  milk: 4,
  extraShots: 1,
  syrups: ['vanilla'],
  temperature: 1,
  sweetness: 2,
  ...overrides,
})

const withCustomization = (overrides: Partial<DrinkCustomization>) =>
  profile({ preferences: { defaultCustomization: customization(overrides), likes: [], decafOnly: false } })

const address = (overrides: Partial<AddressInput> = {}): AddressInput => ({
  street: '1 Infinite Loop',
  city: 'Cupertino',
  stateProvince: 'CA',
  postalCode: '95014',
  countryCode: 'US',
  label: 'home',
  ...overrides,
})

const fields = (v: Violations) => v.list.map((violation) => violation.field)
const profileFields = (p: ProfileInput, only?: string[]) => fields(profileViolations(p, only && new Set(only)))
const addressFields = (a: AddressInput, only?: string[]) => fields(addressViolations(a, only && new Set(only)))

describe('normalizeProfile', () => {
  it('when the username has spaces and capitals, then it is trimmed and lower-cased', () => {
    expect(normalizeProfile(profile({ username: '  Ada_Lovelace ' })).username).toBe('ada_lovelace')
  })

  it('when names and email are padded, then they are trimmed but the email keeps its case', () => {
    const p = normalizeProfile(profile({ firstName: ' Ada ', lastName: ' Lovelace\t', email: '  Ada@Example.COM ' }))
    expect(p).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', email: 'Ada@Example.COM' })
  })

  it('when the display name is blank, then it falls back to the trimmed first name', () => {
    expect(normalizeProfile(profile({ displayName: '   ', firstName: '  Augusta ' })).displayName).toBe('Augusta')
    expect(normalizeProfile(profile({ displayName: ' Countess ' })).displayName).toBe('Countess')
  })

  it('when the phone has spaces, dashes and parentheses, then they are removed', () => {
    expect(normalizeProfile(profile({ phone: '+1 (415) 555-0123' })).phone).toBe('+14155550123')
  })

  it('when likes are padded or capitalised, then they are trimmed and lower-cased', () => {
    const p = normalizeProfile(profile({ preferences: { defaultCustomization: undefined, likes: [' Strong ', 'DECAF'], decafOnly: true } }))
    expect(p.preferences).toEqual({ defaultCustomization: undefined, likes: ['strong', 'decaf'], decafOnly: true })
  })

  it('when no preferences are given, then they stay undefined', () => {
    expect(normalizeProfile(profile()).preferences).toBeUndefined()
  })

  it('when dietary restrictions repeat and are unordered, then they are de-duplicated and sorted numerically', () => {
    expect(normalizeProfile(profile({ dietaryRestrictions: [7, 1, 5, 1, 3] })).dietaryRestrictions).toEqual([1, 3, 5, 7])
  })

  it('when the household id is padded upper case, then it is trimmed and lower-cased', () => {
    expect(normalizeProfile(profile({ householdId: ` ${HOUSEHOLD.toUpperCase()} ` })).householdId).toBe(HOUSEHOLD)
  })

  it('when the input is normalized, then the caller object is not modified', () => {
    const raw = profile({ username: ' ADA ', dietaryRestrictions: [3, 1] })
    normalizeProfile(raw)
    expect(raw.username).toBe(' ADA ')
    expect(raw.dietaryRestrictions).toEqual([3, 1])
  })
})

describe('profileViolations', () => {
  it('when every field is valid, then there are no violations', () => {
    expect(profileFields(profile())).toEqual([])
    expect(profileFields(withCustomization({}))).toEqual([])
  })

  it('when several fields are wrong, then every one is named in field order', () => {
    const p = normalizeProfile(
      profile({ username: 'x', firstName: '', displayName: '', email: 'not-an-email', phone: '555-1234', householdId: 'family' }),
    )
    expect(profileFields(p)).toEqual(['username', 'display_name', 'first_name', 'email', 'phone', 'household_id'])
  })

  it('when the username is 3 or 32 allowed characters, then it is accepted', () => {
    expect(profileFields(profile({ username: 'a.b' }))).toEqual([])
    expect(profileFields(profile({ username: 'a'.repeat(32) }))).toEqual([])
    expect(profileFields(profile({ username: 'a-b_c.9' }))).toEqual([])
  })

  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(33)],
    ['a space', 'ada l'],
    ['upper case (not normalized)', 'Ada'],
    ['a symbol', 'ada+l'],
  ])('when the username has %s, then username is refused', (_, username) => {
    expect(profileFields(profile({ username }))).toEqual(['username'])
  })

  it('when the email is empty, then email is required', () => {
    expect(profileViolations(profile({ email: '' })).list).toEqual([{ field: 'email', description: 'is required' }])
  })

  it.each([
    ['no @', 'ada.example.com'],
    ['no dot in the domain', 'ada@example'],
    ['a space', 'ada l@example.com'],
    ['two @', 'ada@home@example.com'],
    ['more than 254 characters', `${'a'.repeat(243)}@example.com`],
  ])('when the email has %s, then email is refused', (_, email) => {
    expect(profileViolations(profile({ email })).list).toEqual([{ field: 'email', description: 'must be an email address' }])
  })

  it('when the email is exactly 254 characters, then it is accepted', () => {
    const email = `${'a'.repeat(242)}@example.com`
    expect(email).toHaveLength(254)
    expect(profileFields(profile({ email }))).toEqual([])
  })

  it('when the phone is empty, then it is accepted as no phone', () => {
    expect(profileFields(profile({ phone: '' }))).toEqual([])
  })

  it.each(['+1234567', '+123456789012345'])('when the phone is E.164 with 7 to 15 digits (%s), then it is accepted', (phone) => {
    expect(profileFields(profile({ phone }))).toEqual([])
  })

  it.each([
    ['no plus', '14155550123'],
    ['a leading zero', '+04155550123'],
    ['6 digits', '+123456'],
    ['16 digits', '+1234567890123456'],
    ['letters', '+1415555CAFE'],
    ['spaces (not normalized)', '+1 415 555 0123'],
  ])('when the phone has %s, then phone is refused', (_, phone) => {
    expect(profileFields(profile({ phone }))).toEqual(['phone'])
  })

  it('when a normalized phone had punctuation, then it passes', () => {
    expect(profileFields(normalizeProfile(profile({ phone: '+44 (20) 7946-0958' })))).toEqual([])
  })

  it('when names are empty or too long, then the field is named with the limit', () => {
    expect(profileViolations(profile({ firstName: '' })).list).toEqual([{ field: 'first_name', description: 'is required' }])
    expect(profileViolations(profile({ lastName: 'x'.repeat(101) })).list).toEqual([
      { field: 'last_name', description: 'must have at most 100 characters' },
    ])
    expect(profileFields(profile({ displayName: 'x'.repeat(81) }))).toEqual(['display_name'])
    expect(profileFields(profile({ displayName: 'x'.repeat(80), lastName: 'x'.repeat(100) }))).toEqual([])
  })

  it('when a name uses astral characters, then its length counts code points, not UTF-16 units', () => {
    expect(profileFields(profile({ displayName: '☕'.repeat(80) }))).toEqual([])
    expect(profileFields(profile({ displayName: '😀'.repeat(80) }))).toEqual([])
    expect(profileFields(profile({ displayName: '😀'.repeat(81) }))).toEqual(['display_name'])
  })

  it.each([0, 4])('when extra shots is %i (in 0..4), then it is accepted', (extraShots) => {
    expect(profileFields(withCustomization({ extraShots }))).toEqual([])
  })

  it.each([-1, 5, 1.5])('when extra shots is %s, then preferences.default_customization.extra_shots is refused', (extraShots) => {
    expect(profileFields(withCustomization({ extraShots }))).toEqual(['preferences.default_customization.extra_shots'])
  })

  it.each([0, 5])('when sweetness is %i (in 0..5), then it is accepted', (sweetness) => {
    expect(profileFields(withCustomization({ sweetness }))).toEqual([])
  })

  it.each([-1, 6, 2.5])('when sweetness is %s, then preferences.default_customization.sweetness is refused', (sweetness) => {
    expect(profileFields(withCustomization({ sweetness }))).toEqual(['preferences.default_customization.sweetness'])
  })

  it('when size, milk or temperature is past its enum, then each is named', () => {
    expect(profileFields(withCustomization({ size: 3, milk: 7, temperature: 4 }))).toEqual([])
    expect(profileFields(withCustomization({ size: 4, milk: 8, temperature: 5 }))).toEqual([
      'preferences.default_customization.size',
      'preferences.default_customization.milk',
      'preferences.default_customization.temperature',
    ])
    expect(profileFields(withCustomization({ size: -1 }))).toEqual(['preferences.default_customization.size'])
  })

  it('when there are more than 5 syrups, then syrups is refused; 5 is accepted', () => {
    expect(profileFields(withCustomization({ syrups: ['a', 'b', 'c', 'd', 'e'] }))).toEqual([])
    expect(profileFields(withCustomization({ syrups: ['a', 'b', 'c', 'd', 'e', 'f'] }))).toEqual([
      'preferences.default_customization.syrups',
    ])
  })

  it('when a syrup name is empty or longer than 40, then that syrup is named by index', () => {
    expect(profileFields(withCustomization({ syrups: ['vanilla', '', 'x'.repeat(41)] }))).toEqual([
      'preferences.default_customization.syrups[1]',
      'preferences.default_customization.syrups[2]',
    ])
    expect(profileFields(withCustomization({ syrups: ['x'.repeat(40)] }))).toEqual([])
  })

  it('when there are more than 10 likes, then likes is refused; 10 is accepted', () => {
    const likes = (n: number) => Array.from({ length: n }, (_, i) => `like${i}`)
    const p = (n: number) => profile({ preferences: { defaultCustomization: undefined, likes: likes(n), decafOnly: false } })
    expect(profileFields(p(10))).toEqual([])
    expect(profileFields(p(11))).toEqual(['preferences.likes'])
  })

  it('when a like is empty or longer than 30, then that like is named by index', () => {
    const p = profile({
      preferences: { defaultCustomization: undefined, likes: ['strong', '', 'x'.repeat(31), 'x'.repeat(30)], decafOnly: false },
    })
    expect(profileFields(p)).toEqual(['preferences.likes[1]', 'preferences.likes[2]'])
  })

  it('when dietary restrictions are within 1..7, then they are accepted', () => {
    expect(profileFields(profile({ dietaryRestrictions: [1, 2, 3, 4, 5, 6, 7] }))).toEqual([])
  })

  it('when a dietary restriction is UNSPECIFIED, negative or past the enum, then it is named by index', () => {
    expect(profileFields(profile({ dietaryRestrictions: [0, 1, 8, -1] }))).toEqual([
      'dietary_restrictions[0]',
      'dietary_restrictions[2]',
      'dietary_restrictions[3]',
    ])
  })

  it('when the household id is empty, then it is accepted; when it is not a UUID, then household_id is refused', () => {
    expect(profileFields(profile({ householdId: '' }))).toEqual([])
    expect(profileFields(profile({ householdId: HOUSEHOLD }))).toEqual([])
    expect(profileViolations(profile({ householdId: 'family' })).list).toEqual([
      { field: 'household_id', description: 'must be a UUID or empty' },
    ])
  })

  it('when a field subset is given, then only those fields are checked', () => {
    const bad = profile({ username: 'x', email: 'nope', phone: '123', householdId: 'family', dietaryRestrictions: [0] })
    expect(profileFields(bad, ['email'])).toEqual(['email'])
    expect(profileFields(bad, ['phone', 'household_id'])).toEqual(['phone', 'household_id'])
    expect(profileFields(bad, ['dietary_restrictions'])).toEqual(['dietary_restrictions[0]'])
    expect(profileFields(bad, ['display_name', 'first_name', 'last_name'])).toEqual([])
    expect(profileFields(bad, [])).toEqual([])
  })

  it('when preferences are not in the subset, then bad preferences are not reported', () => {
    const bad = withCustomization({ extraShots: 9 })
    expect(profileFields(bad, ['username'])).toEqual([])
    expect(profileFields(bad, ['preferences'])).toEqual(['preferences.default_customization.extra_shots'])
  })

  it('when violations are thrown, then one invalid AppError carries them all', () => {
    const thrown = (() => {
      try {
        profileViolations(profile({ username: 'x', email: '' })).throwIfAny()
      } catch (err) {
        return err
      }
    })()
    expect(thrown).toBeInstanceOf(AppError)
    expect((thrown as AppError).kind).toBe('invalid')
    expect((thrown as AppError).violations.map((v) => v.field)).toEqual(['username', 'email'])
  })
})

describe('normalizeAddress', () => {
  it('when fields are padded, then they are trimmed; postal and country codes upper-cased; label lower-cased', () => {
    const a = normalizeAddress({
      street: '  10 Downing St ',
      city: ' London ',
      stateProvince: ' Greater London ',
      postalCode: ' sw1a 2aa ',
      countryCode: ' gb ',
      label: ' Work ',
    })
    expect(a).toEqual({
      street: '10 Downing St',
      city: 'London',
      stateProvince: 'Greater London',
      postalCode: 'SW1A 2AA',
      countryCode: 'GB',
      label: 'work',
    })
  })
})

describe('addressViolations', () => {
  it('when every field is valid, then there are no violations', () => {
    expect(addressFields(address())).toEqual([])
  })

  it('when the country code is an assigned ISO alpha-2 code, then it is accepted', () => {
    for (const countryCode of ['US', 'GB', 'DE', 'JP', 'BR', 'ZW', 'AD']) expect(addressFields(address({ countryCode }))).toEqual([])
  })

  it.each([
    ['lower case (not normalized)', 'us'],
    ['not assigned (UK is not GB)', 'UK'],
    ['alpha-3', 'USA'],
    ['made up', 'XX'],
    ['empty', ''],
  ])('when the country code is %s, then address.country_code is refused', (_, countryCode) => {
    expect(addressViolations(address({ countryCode })).list).toEqual([
      { field: 'address.country_code', description: 'must be an ISO 3166-1 alpha-2 code' },
    ])
  })

  it('when a lower-case country code is normalized first, then it is accepted', () => {
    expect(addressFields(normalizeAddress(address({ countryCode: ' de ' })))).toEqual([])
  })

  it.each(['9', 'SW1A 1AA', '10115', '1234-567', 'A'.repeat(16)])('when the postal code is %s, then it is accepted', (postalCode) => {
    expect(addressFields(address({ postalCode }))).toEqual([])
  })

  it.each([
    ['empty', ''],
    ['starting with a dash', '-1234'],
    ['ending with a space', '1234 '],
    ['17 characters', 'A'.repeat(17)],
    ['an underscore', '12_34'],
  ])('when the postal code is %s, then address.postal_code is refused', (_, postalCode) => {
    expect(addressFields(address({ postalCode }))).toEqual(['address.postal_code'])
  })

  it('when text fields are empty or too long, then each is named with the prefix', () => {
    expect(addressFields(address({ street: '', city: 'x'.repeat(101), stateProvince: '' }))).toEqual([
      'address.street',
      'address.city',
      'address.state_province',
    ])
    expect(addressFields(address({ street: 'x'.repeat(201) }))).toEqual(['address.street'])
    expect(addressFields(address({ street: 'x'.repeat(200), city: 'x'.repeat(100) }))).toEqual([])
  })

  it('when the label is empty, then it is accepted; when longer than 40, then address.label is refused', () => {
    expect(addressFields(address({ label: '' }))).toEqual([])
    expect(addressFields(address({ label: 'x'.repeat(40) }))).toEqual([])
    expect(addressFields(address({ label: 'x'.repeat(41) }))).toEqual(['address.label'])
  })

  it('when a prefix is given, then violations use it', () => {
    expect(fields(addressViolations(address({ countryCode: 'XX', city: '' }), undefined, 'addresses[2]'))).toEqual([
      'addresses[2].city',
      'addresses[2].country_code',
    ])
  })

  it('when a field subset is given, then only those fields are checked', () => {
    const bad = address({ street: '', city: '', postalCode: '', countryCode: 'XX', label: 'x'.repeat(41) })
    expect(addressFields(bad, ['city'])).toEqual(['address.city'])
    expect(addressFields(bad, ['postal_code', 'country_code'])).toEqual(['address.postal_code', 'address.country_code'])
    expect(addressFields(bad, ['state_province'])).toEqual([])
  })
})

describe("the ids the service takes (runtime's isUuid and uuidOf)", () => {
  it('when the value is a version 1-8 RFC 4122 UUID in either case, then it is a UUID', () => {
    expect(isUuid(HOUSEHOLD)).toBe(true)
    expect(isUuid(HOUSEHOLD.toUpperCase())).toBe(true)
    expect(isUuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(true)
  })

  it.each([
    ['empty', ''],
    ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['without dashes', HOUSEHOLD.replaceAll('-', '')],
    ['with braces', `{${HOUSEHOLD}}`],
    ['with a bad variant', '3f2b8c1e-9d4a-4c6b-ce2f-1a2b3c4d5e6f'],
    ['padded', ` ${HOUSEHOLD}`],
    ['not hex', '3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6g'],
  ])('when the value is %s, then it is not a UUID', (_, value) => {
    expect(isUuid(value)).toBe(false)
  })

  it('when uuidOf gets a UUID, then it does not throw, and gives it lower-cased', () => {
    expect(uuidOf(HOUSEHOLD.toUpperCase(), 'id')).toBe(HOUSEHOLD)
  })

  it('when uuidOf gets something else, then it throws invalid naming the given field', () => {
    expect(() => uuidOf('42', 'customer.id')).toThrow(
      expect.objectContaining({ kind: 'invalid', violations: [{ field: 'customer.id', description: 'must be a UUID' }] }),
    )
  })
})
