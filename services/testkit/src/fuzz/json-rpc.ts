import { fromBinary, fromJson, toBinary, toJson, type JsonObject } from '@bufbuild/protobuf'
import type { MeshService } from './contract.ts'
import type { WireClient } from './wire-client.ts'

/** A unary call written as grpcurl takes it: proto JSON in, proto JSON out (fields by their proto names). */
export type JsonRpc = (service: string, method: string, request: JsonObject, token: string) => Promise<JsonObject>

const DEADLINE_MS = 10_000

/** Unary calls by proto JSON over the fuzzer's wire clients, for building the world and reading it back. */
export function jsonRpc(services: readonly MeshService[], clients: ReadonlyMap<string, WireClient>): JsonRpc {
  return async (service, method, request, token) => {
    const desc = services.find((s) => s.name === service)?.desc.methods.find((m) => m.name === method)
    const client = clients.get(service)
    if (!desc || !client) throw new Error(`no method ${service}/${method} in the descriptor set`)
    const bytes = await client.unary(desc, toBinary(desc.input, fromJson(desc.input, request)), token, DEADLINE_MS)
    return toJson(desc.output, fromBinary(desc.output, bytes), { useProtoFieldName: true }) as JsonObject
  }
}
