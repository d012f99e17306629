import type { DrinkCustomization as DrinkCustomizationMessage } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import type {
  Address as AddressMessage,
  Customer as CustomerMessage,
  DrinkPreferences,
} from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import type { ImportCustomersResponse } from '@brewmesh/gen/brewmesh/customer/v1/customer_service.ts'
import type { Address, AddressInput, Customer, Preferences, ProfileInput } from '../domain/customer.ts'
import type { ImportSummary } from '../domain/import-customers.ts'

/** Between domain objects and generated protobuf messages, used by gRPC handlers, events and the cache. */

export function preferencesToProto(p: Preferences): DrinkPreferences {
  return {
    defaultCustomization:
      p.defaultCustomization && ({ ...p.defaultCustomization, syrups: [...p.defaultCustomization.syrups] } as DrinkCustomizationMessage),
    likes: [...p.likes],
    decafOnly: p.decafOnly,
  }
}

export function customerToProto(c: Customer): CustomerMessage {
  return {
    id: c.id,
    username: c.username,
    displayName: c.displayName,
    firstName: c.firstName,
    lastName: c.lastName,
    email: c.email,
    phone: c.phone ?? '',
    preferences: preferencesToProto(c.preferences),
    dietaryRestrictions: [...c.dietaryRestrictions] as CustomerMessage['dietaryRestrictions'],
    householdId: c.householdId ?? '',
    active: c.active,
    registeredAt: c.registeredAt,
    lastLoginAt: c.lastLoginAt ?? undefined,
    version: c.version,
    updatedAt: c.updatedAt,
  }
}

export function customerFromProto(m: CustomerMessage): Customer {
  return {
    id: m.id,
    username: m.username,
    displayName: m.displayName,
    firstName: m.firstName,
    lastName: m.lastName,
    email: m.email,
    phone: m.phone || null,
    preferences: preferencesFromProto(m.preferences) ?? { defaultCustomization: undefined, likes: [], decafOnly: false },
    dietaryRestrictions: [...m.dietaryRestrictions],
    householdId: m.householdId || null,
    active: m.active,
    registeredAt: m.registeredAt ?? new Date(0),
    lastLoginAt: m.lastLoginAt ?? null,
    version: m.version,
    updatedAt: m.updatedAt ?? new Date(0),
  }
}

export function preferencesFromProto(p: DrinkPreferences | undefined): Preferences | undefined {
  if (!p) return undefined
  const c = p.defaultCustomization
  return {
    defaultCustomization: c && {
      size: c.size,
      milk: c.milk,
      extraShots: c.extraShots,
      syrups: [...c.syrups],
      temperature: c.temperature,
      sweetness: c.sweetness,
    },
    likes: [...p.likes],
    decafOnly: p.decafOnly,
  }
}

/** The profile fields of a create/import/update request (all empty when the message is missing). */
export function profileFromProto(
  m: (Omit<ProfileInput, 'preferences'> & { preferences?: DrinkPreferences | undefined }) | undefined,
): ProfileInput {
  return {
    username: m?.username ?? '',
    displayName: m?.displayName ?? '',
    firstName: m?.firstName ?? '',
    lastName: m?.lastName ?? '',
    email: m?.email ?? '',
    phone: m?.phone ?? '',
    preferences: preferencesFromProto(m?.preferences),
    dietaryRestrictions: [...(m?.dietaryRestrictions ?? [])],
    householdId: m?.householdId ?? '',
  }
}

export function addressToProto(a: Address): AddressMessage {
  return { ...a, createdAt: a.createdAt, updatedAt: a.updatedAt }
}

export function addressInputFromProto(m: AddressMessage | undefined): AddressInput {
  return {
    street: m?.street ?? '',
    city: m?.city ?? '',
    stateProvince: m?.stateProvince ?? '',
    postalCode: m?.postalCode ?? '',
    countryCode: m?.countryCode ?? '',
    label: m?.label ?? '',
  }
}

export function importSummaryToProto(s: ImportSummary): ImportCustomersResponse {
  return {
    received: String(s.received),
    created: String(s.created),
    updated: String(s.updated),
    unchanged: String(s.unchanged),
    failed: String(s.failed),
    failures: s.failures.map((f) => ({ rowNumber: String(f.rowNumber), reason: f.reason, fields: f.fields })),
  }
}
