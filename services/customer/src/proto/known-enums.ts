import { DrinkSize, MilkType, Temperature } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import { DietaryRestriction } from '@brewmesh/gen/brewmesh/customer/v1/customer.ts'
import type { KnownEnums } from '../domain/customer.ts'

/** The named values of a generated enum: every one but ts-proto's UNRECOGNIZED (-1), by name. */
const named = (e: Record<string, number>) => Object.entries(e).filter(([name]) => name !== 'UNRECOGNIZED')

/** The contract's enums as the domain's rules read them, from the generated code. */
export const KNOWN_ENUMS: KnownEnums = {
  size: new Set(named(DrinkSize).map(([, value]) => value)),
  milk: new Set(named(MilkType).map(([, value]) => value)),
  temperature: new Set(named(Temperature).map(([, value]) => value)),
  dietary: new Map(
    named(DietaryRestriction)
      .filter(([, value]) => value !== DietaryRestriction.DIETARY_RESTRICTION_UNSPECIFIED)
      .map(([name, value]) => [value, name.slice('DIETARY_RESTRICTION_'.length)]),
  ),
}
