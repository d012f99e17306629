import { Violations } from '@brewmesh/runtime/errors'
import { isUuid } from '@brewmesh/runtime/ids'
import { COUNTRY_CODES } from './country-codes.ts'
import type { AddressInput, DrinkCustomization, KnownEnums, Preferences, ProfileInput } from './customer.ts'

const USERNAME = /^[a-z0-9_.-]{3,32}$/
// Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is the mail system's job.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const E164 = /^\+[1-9]\d{6,14}$/
const POSTAL_CODE = /^[A-Za-z0-9][A-Za-z0-9 -]{0,14}[A-Za-z0-9]$|^[A-Za-z0-9]$/

function text(v: Violations, value: string, field: string, { min = 1, max }: { min?: number; max: number }) {
  const length = [...value].length
  if (length < min) v.add(field, min === 1 ? 'is required' : `must have at least ${min} characters`)
  else if (length > max) v.add(field, `must have at most ${max} characters`)
}

function customization(v: Violations, c: DrinkCustomization, prefix: string, enums: KnownEnums) {
  v.check(enums.size.has(c.size), `${prefix}.size`, 'unknown drink size')
  v.check(enums.milk.has(c.milk), `${prefix}.milk`, 'unknown milk type')
  v.check(enums.temperature.has(c.temperature), `${prefix}.temperature`, 'unknown temperature')
  v.check(Number.isInteger(c.extraShots) && c.extraShots >= 0 && c.extraShots <= 4, `${prefix}.extra_shots`, 'must be 0 to 4')
  v.check(Number.isInteger(c.sweetness) && c.sweetness >= 0 && c.sweetness <= 5, `${prefix}.sweetness`, 'must be 0 to 5')
  v.check(c.syrups.length <= 5, `${prefix}.syrups`, 'at most 5 syrups')
  c.syrups.forEach((s, i) => text(v, s, `${prefix}.syrups[${i}]`, { max: 40 }))
}

function preferences(v: Violations, p: Preferences, field: string, enums: KnownEnums) {
  if (p.defaultCustomization) customization(v, p.defaultCustomization, `${field}.default_customization`, enums)
  v.check(p.likes.length <= 10, `${field}.likes`, 'at most 10 likes')
  p.likes.forEach((like, i) => text(v, like, `${field}.likes[${i}]`, { max: 30 }))
}

/** Trims and lower-cases what should be, so comparisons and uniqueness behave. */
export function normalizeProfile(input: ProfileInput): ProfileInput {
  const firstName = input.firstName.trim()
  return {
    username: input.username.trim().toLowerCase(),
    displayName: input.displayName.trim() || firstName,
    firstName,
    lastName: input.lastName.trim(),
    email: input.email.trim(),
    phone: input.phone.replace(/[\s()-]/g, ''),
    preferences: input.preferences && {
      defaultCustomization: input.preferences.defaultCustomization,
      likes: input.preferences.likes.map((l) => l.trim().toLowerCase()),
      decafOnly: input.preferences.decafOnly,
    },
    dietaryRestrictions: [...new Set(input.dietaryRestrictions)].sort((a, b) => a - b),
    householdId: input.householdId.trim().toLowerCase(),
  }
}

/** Checks the given fields of a normalized profile (all of them by default). */
export function profileViolations(p: ProfileInput, enums: KnownEnums, fields?: ReadonlySet<string>): Violations {
  const v = new Violations()
  const want = (f: string) => !fields || fields.has(f)
  if (want('username')) v.check(USERNAME.test(p.username), 'username', 'must be 3 to 32 characters of a-z, 0-9, _ . -')
  if (want('display_name')) text(v, p.displayName, 'display_name', { max: 80 })
  if (want('first_name')) text(v, p.firstName, 'first_name', { max: 100 })
  if (want('last_name')) text(v, p.lastName, 'last_name', { max: 100 })
  if (want('email')) {
    if (!p.email) v.add('email', 'is required')
    else v.check(EMAIL.test(p.email) && p.email.length <= 254, 'email', 'must be an email address')
  }
  if (want('phone') && p.phone) v.check(E164.test(p.phone), 'phone', 'must be E.164, e.g. +14155550123')
  if (want('preferences') && p.preferences) preferences(v, p.preferences, 'preferences', enums)
  if (want('dietary_restrictions')) {
    p.dietaryRestrictions.forEach((d, i) => v.check(enums.dietary.has(d), `dietary_restrictions[${i}]`, 'unknown dietary restriction'))
  }
  if (want('household_id') && p.householdId) v.check(isUuid(p.householdId), 'household_id', 'must be a UUID or empty')
  return v
}

export function normalizeAddress(a: AddressInput): AddressInput {
  return {
    street: a.street.trim(),
    city: a.city.trim(),
    stateProvince: a.stateProvince.trim(),
    postalCode: a.postalCode.trim().toUpperCase(),
    countryCode: a.countryCode.trim().toUpperCase(),
    label: a.label.trim().toLowerCase(),
  }
}

export function addressViolations(a: AddressInput, fields?: ReadonlySet<string>, prefix = 'address'): Violations {
  const v = new Violations()
  const want = (f: string) => !fields || fields.has(f)
  if (want('street')) text(v, a.street, `${prefix}.street`, { max: 200 })
  if (want('city')) text(v, a.city, `${prefix}.city`, { max: 100 })
  if (want('state_province')) text(v, a.stateProvince, `${prefix}.state_province`, { max: 100 })
  if (want('postal_code'))
    v.check(POSTAL_CODE.test(a.postalCode), `${prefix}.postal_code`, 'must be 1 to 16 letters, digits, spaces or dashes')
  if (want('country_code')) v.check(COUNTRY_CODES.has(a.countryCode), `${prefix}.country_code`, 'must be an ISO 3166-1 alpha-2 code')
  if (want('label') && a.label) text(v, a.label, `${prefix}.label`, { max: 40 })
  return v
}
