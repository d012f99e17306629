import { randomUUID } from 'node:crypto'
import { credentials, status, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FavoritesServiceClient } from '@brewmesh/gen/brewmesh/favorites/v1/favorites_service.ts'
import type { Favorite } from '@brewmesh/gen/brewmesh/favorites/v1/favorites.ts'
import { unary } from '@brewmesh/testkit/grpc.ts'
import { bearer, type TokenClaims } from '@brewmesh/testkit/tokens.ts'
import { addFavorite, addRequest, cleanup, favoritesEnv, MENU, startFavorites, type Running } from './support.ts'

let svc: Running
const env = favoritesEnv()
const member = randomUUID() // the customer the calls are about
const stranger = randomUUID()
let favorite: Favorite

beforeAll(async () => {
  svc = await startFavorites(env)
  favorite = await addFavorite(svc.client, member, { pinned: true })
})
afterAll(async () => {
  await svc?.stop()
  await cleanup(env)
})

const withToken = (token?: string) =>
  new FavoritesServiceClient(svc.address, credentials.createInsecure(), token ? { interceptors: [bearer(token)] } : {})
const customer = (id: string): TokenClaims => ({ sub: id, roles: ['customer'] })
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => status.OK,
    (err: ServiceError) => err.code,
  )
/** A stream's outcome: resolves once a first message arrives (then cancels), rejects with its status otherwise. */
const streamCode = (stream: NodeJS.EventEmitter & { cancel(): void }) =>
  new Promise<void>((resolve, reject) => {
    stream.on('data', () => {
      resolve()
      stream.cancel()
    })
    stream.on('error', reject)
  })

type Client = FavoritesServiceClient
/** Every RPC, about `member`, with the token its rule admits and a staff role it does not. */
const RPCS: Record<string, { call: (c: Client) => Promise<unknown>; right: () => TokenClaims; wrongRole: TokenClaims }> = {
  AddFavorite: {
    call: (c) => unary((cb) => c.addFavorite(addRequest(member, { menuItemId: randomUUID() }), cb)),
    right: () => customer(member),
    wrongRole: { sub: 'b1', roles: ['barista'] },
  },
  UpdateFavorite: {
    call: (c) =>
      unary((cb) => c.updateFavorite({ favorite: { ...favorite, nickname: 'auth' }, updateMask: ['nickname'], expectedRevision: '0' }, cb)),
    right: () => customer(member),
    wrongRole: { sub: 'b1', roles: ['barista'] },
  },
  RemoveFavorite: {
    // A stale expected revision: authorized, then ABORTED, so the favorite stays for the other cases.
    call: (c) => unary((cb) => c.removeFavorite({ favoriteId: favorite.favoriteId, expectedRevision: '999' }, cb)),
    right: () => ({ sub: 's1', roles: ['support'] }),
    wrongRole: { sub: 'b1', roles: ['barista'] },
  },
  ListFavorites: {
    call: (c) => unary((cb) => c.listFavorites({ customerId: member, pageSize: 0, pageToken: '' }, cb)),
    right: () => ({ sub: 'b1', roles: ['barista'] }),
    wrongRole: { sub: 'loyalty', roles: ['service'] },
  },
  GetUsual: {
    call: (c) => unary((cb) => c.getUsual({ customerId: member }, cb)),
    right: () => ({ sub: 'order', roles: ['service'] }),
    wrongRole: { sub: 'loyalty', roles: ['service'] },
  },
  SetUsual: {
    call: (c) => unary((cb) => c.setUsual({ customerId: member, favoriteId: favorite.favoriteId, expectedRevision: '0' }, cb)),
    right: () => customer(member),
    wrongRole: { sub: 'b1', roles: ['barista'] },
  },
  WatchFavorites: {
    call: (c) => streamCode(c.watchFavorites({ customerId: member, sinceRevision: '0' })),
    right: () => customer(member),
    wrongRole: { sub: 'order', roles: ['service'] },
  },
  ImportFavorites: {
    call: (c) =>
      new Promise((resolve, reject) => {
        const call = c.importFavorites((err, r) => (err ? reject(err) : resolve(r)))
        call.write({ message: { $case: 'header', value: { customerId: member, deviceId: 'd1' } } })
        call.write({
          message: { $case: 'row', value: { rowNumber: '1', menuItemId: MENU.chai, displayName: 'Chai', nickname: '', pinned: false } },
        })
        call.end()
      }),
    right: () => customer(member),
    wrongRole: { sub: 's1', roles: ['support'] },
  },
  SyncFavorites: {
    call: (c) => {
      const call = c.syncFavorites()
      call.write({ message: { $case: 'hello', value: { customerId: member, deviceId: 'd1', lastRevision: '0' } } })
      return streamCode(call)
    },
    right: () => customer(member),
    wrongRole: { sub: 's1', roles: ['support'] },
  },
}

describe('authentication and authorization, for every FavoritesService RPC', () => {
  for (const [rpc, spec] of Object.entries(RPCS)) {
    it(`${rpc}: no token and an expired token are UNAUTHENTICATED; another customer and a wrong role are PERMISSION_DENIED; the right token passes`, async () => {
      expect(await codeOf(spec.call(withToken()))).toBe(status.UNAUTHENTICATED)
      expect(await codeOf(spec.call(withToken(await svc.issuer.mint(spec.right(), { expiresIn: -120 }))))).toBe(status.UNAUTHENTICATED)
      expect(await codeOf(spec.call(withToken(await svc.issuer.mint(customer(stranger)))))).toBe(status.PERMISSION_DENIED)
      expect(await codeOf(spec.call(withToken(await svc.issuer.mint(spec.wrongRole))))).toBe(status.PERMISSION_DENIED)
      const outcome = await codeOf(spec.call(withToken(await svc.issuer.mint(spec.right()))))
      expect(outcome).toBe(rpc === 'RemoveFavorite' ? status.ABORTED : status.OK)
    })
  }
})
