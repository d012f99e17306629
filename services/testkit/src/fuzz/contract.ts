import { readFileSync } from 'node:fs'
import {
  createFileRegistry,
  fromBinary,
  getExtension,
  hasExtension,
  type DescField,
  type DescMethod,
  type DescService,
  type FileRegistry,
} from '@bufbuild/protobuf'
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt'
import { descriptorSetPath } from '@brewmesh/gen/descriptors.ts'

// The fuzzer knows the services only through the wire contract: the descriptor set `buf build`
// writes (gen/descriptors.binpb). It reads the limits option itself rather than importing the
// services' checker (runtime/src/grpc/contract.ts), so a mistake there cannot hide here.

/** Every message, enum and service of proto/, with the brewmesh options. */
export const registry: FileRegistry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath)))

/** The brewmesh services, e.g. `brewmesh.customer.v1.CustomerService` as service `customer`. */
export interface MeshService {
  /** The short name the mesh uses for the process: customer, order, loyalty, favorites. */
  name: string
  desc: DescService
}

const MESH_SERVICE = /^brewmesh\.(\w+)\.v1\.\w+Service$/

/** Every `brewmesh.*.v1.*Service` in the descriptor set, in name order. */
export function meshServices(): MeshService[] {
  const services: MeshService[] = []
  for (const desc of registry) {
    if (desc.kind !== 'service') continue
    const name = MESH_SERVICE.exec(desc.typeName)?.[1]
    if (name) services.push({ name, desc })
  }
  return services.sort((a, b) => a.name.localeCompare(b.name))
}

/** `/brewmesh.order.v1.OrderService/PlaceOrder`: the HTTP/2 path of a method. */
export const pathOf = (method: DescMethod) => `/${method.parent.typeName}/${method.name}`

/** How many messages a method takes: one (unary, server streaming) or a stream of them. */
export const takesStream = (method: DescMethod) => method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming'
export const givesStream = (method: DescMethod) => method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming'

/** The call mode in words, for reports. */
export const callKind = (method: DescMethod) => method.methodKind.replace('_streaming', ' streaming').replace('bidi', 'bidirectional')

// proto/brewmesh/common/v1/limits.proto: the defaults of a field without the option.
const DEFAULT_MAX_LEN = 256
const DEFAULT_MAX_ITEMS = 100
const limitsOption = registry.getExtension('brewmesh.common.v1.limits')

/** The contract's limits on a field: characters of a string (bytes of bytes), elements of a list or map. */
export function limitsOf(field: DescField): { maxLen: number; maxItems: number } {
  const options = field.proto.options
  const limits =
    options && limitsOption && hasExtension(options, limitsOption)
      ? (getExtension(options, limitsOption) as { maxLen?: number; maxItems?: number })
      : {}
  return { maxLen: limits.maxLen || DEFAULT_MAX_LEN, maxItems: limits.maxItems || DEFAULT_MAX_ITEMS }
}
