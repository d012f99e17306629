import type { Actor as ActorMessage } from '@brewmesh/gen/brewmesh/common/v1/actor.ts'
import type { DrinkCustomization as CustomizationMessage } from '@brewmesh/gen/brewmesh/common/v1/drink.ts'
import {
  FavoriteChange_Kind,
  UsualSource,
  type Favorite as FavoriteMessage,
  type FavoriteChange as FavoriteChangeMessage,
  type FavoritesSnapshot,
  type Usual as UsualMessage,
} from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import type { ClientChangeAck as AckMessage } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import { ClientChangeAck_Result } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import {
  NO_CUSTOMIZATION,
  type Actor,
  type DrinkCustomization,
  type DrinkInput,
  type Favorite,
  type FavoriteChange,
  type Usual,
} from '../domain/favorite.ts'
import type { AckResult, ClientChangeAck } from '../domain/ports.ts'
import type { Snapshot } from '../domain/replay.ts'

/** Between domain objects and generated protobuf messages, used by gRPC handlers and events. */

export const customizationToProto = (c: DrinkCustomization) => ({ ...c, syrups: [...c.syrups] }) as CustomizationMessage

export const customizationFromProto = (c: CustomizationMessage | undefined): DrinkCustomization =>
  c
    ? { size: c.size, milk: c.milk, extraShots: c.extraShots, syrups: [...c.syrups], temperature: c.temperature, sweetness: c.sweetness }
    : NO_CUSTOMIZATION

const actorToProto = (a: Actor) => ({ kind: a.kind, id: a.id, displayName: '' }) as ActorMessage

export function favoriteToProto(f: Favorite): FavoriteMessage {
  return {
    favoriteId: f.id,
    customerId: f.customerId,
    menuItemId: f.menuItemId,
    displayName: f.displayName,
    customization: customizationToProto(f.customization),
    nickname: f.nickname,
    position: f.position,
    revision: String(f.revision),
    pinned: f.pinned,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    updatedBy: actorToProto(f.updatedBy),
    updatedFromDeviceId: f.updatedFromDeviceId,
  }
}

/** The values a caller sent for a favorite (UpdateFavorite, sync updates); only masked fields are read. */
export function favoriteValuesFromProto(m: FavoriteMessage | undefined): Favorite {
  const now = new Date(0)
  return {
    id: m?.favoriteId ?? '',
    customerId: m?.customerId ?? '',
    menuItemId: m?.menuItemId ?? '',
    displayName: m?.displayName ?? '',
    customization: customizationFromProto(m?.customization),
    nickname: m?.nickname ?? '',
    position: m?.position ?? 0,
    revision: Number(m?.revision ?? 0),
    createdRevision: 0,
    pinned: m?.pinned ?? false,
    createdAt: now,
    updatedAt: now,
    updatedBy: { kind: 0, id: '' },
    updatedFromDeviceId: '',
    removedAt: undefined,
  }
}

/** The drink fields of AddFavoriteRequest, ImportFavoriteRow and AddFavoriteOperation. */
export function drinkFromProto(m: {
  menuItemId: string
  displayName: string
  customization?: CustomizationMessage | undefined
  nickname: string
  position?: number | undefined
  pinned: boolean
}): DrinkInput {
  return {
    menuItemId: m.menuItemId,
    displayName: m.displayName,
    customization: customizationFromProto(m.customization),
    nickname: m.nickname,
    position: m.position,
    pinned: m.pinned,
  }
}

export function usualToProto(u: Usual | undefined): UsualMessage | undefined {
  if (!u) return undefined
  const window = { startAt: u.window.startAt, endAt: u.window.endAt, days: u.window.days }
  const completedCount = String(u.completedCount)
  if (u.source === 'pinned') {
    return {
      source: UsualSource.USUAL_SOURCE_PINNED,
      drink: { $case: 'favorite', value: favoriteToProto(u.favorite) },
      completedCount,
      window,
    }
  }
  const d = u.learned
  return {
    source: UsualSource.USUAL_SOURCE_LEARNED,
    drink: {
      $case: 'learned',
      value: {
        customerId: d.customerId,
        menuItemId: d.menuItemId,
        displayName: d.displayName,
        customization: customizationToProto(d.customization),
        completedCount: String(d.completedCount),
        firstOrderedAt: d.firstOrderedAt,
        lastOrderedAt: d.lastOrderedAt,
        lastOrderId: d.lastOrderId,
        favoriteId: d.favoriteId,
      },
    },
    completedCount,
    window,
  }
}

const KIND = {
  added: FavoriteChange_Kind.KIND_ADDED,
  updated: FavoriteChange_Kind.KIND_UPDATED,
  removed: FavoriteChange_Kind.KIND_REMOVED,
} as const

export function changeToProto(c: FavoriteChange, at: Date, deviceId = '', clientChangeId = ''): FavoriteChangeMessage {
  return {
    kind: KIND[c.kind],
    revision: String(c.revision),
    favorite: favoriteToProto(c.favorite),
    changedFields: [...c.changedFields],
    changedAt: at,
    deviceId,
    clientChangeId,
  }
}

export function snapshotToProto(s: Snapshot): FavoritesSnapshot {
  return {
    customerId: s.customerId,
    favorites: s.favorites.map(favoriteToProto),
    revision: String(s.revision),
    usual: usualToProto(s.usual),
  }
}

const RESULT: Record<AckResult, ClientChangeAck_Result> = {
  applied: ClientChangeAck_Result.RESULT_APPLIED,
  conflict_overwritten: ClientChangeAck_Result.RESULT_CONFLICT_OVERWRITTEN,
  conflict_lost: ClientChangeAck_Result.RESULT_CONFLICT_LOST,
  duplicate: ClientChangeAck_Result.RESULT_DUPLICATE,
  rejected: ClientChangeAck_Result.RESULT_REJECTED,
}

export function ackToProto(a: ClientChangeAck): AckMessage {
  return {
    clientChangeId: a.clientChangeId,
    result: RESULT[a.result],
    favorite: a.favorite && favoriteToProto(a.favorite),
    removed: a.removed,
    revision: String(a.revision),
    overwritten: a.overwritten && favoriteToProto(a.overwritten),
    conflictingFields: [...a.conflictingFields],
    message: a.message,
    fieldViolations: a.fieldViolations.map((v) => ({
      field: v.field,
      description: v.description,
      reason: '',
      localizedMessage: undefined,
    })),
  }
}
