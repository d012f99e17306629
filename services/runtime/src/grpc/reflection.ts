import { readFileSync } from 'node:fs'
import type { Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js'
import { BinaryReader } from '@bufbuild/protobuf/wire'
import { ReflectionService } from '@grpc/reflection'
import { descriptorSetPath } from '@brewmesh/gen/descriptors.ts'

type Registered = [ServiceDefinition, UntypedServiceImplementation][]

/** What a ReflectionService would add to a server, without a server. */
function registrations(reflection: ReflectionService): Registered {
  const added: Registered = []
  reflection.addToServer({
    addService: (definition: ServiceDefinition, impl: UntypedServiceImplementation) => added.push([definition, impl]),
  })
  return added
}

function build(services: string[]): ReflectionService {
  const reader = new BinaryReader(readFileSync(descriptorSetPath))
  const files: Buffer[] = []
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag()
    if (field === 1) files.push(Buffer.from(reader.bytes()))
    else reader.skip(wireType)
  }
  return new ReflectionService({ brewmesh: { fileDescriptorProtos: files } } as never, { services })
}

/**
 * Server reflection (v1 and v1alpha) describing `services`, built on its first call. Building it
 * decodes and indexes every file of the descriptor set, comments included, once per reflection
 * version: measured here, 140-180 ms of a service's start and 6 MB of heap it would keep while
 * nobody runs grpcurl. The services are registered at once (their definitions come from a
 * reflection over no files), so grpcurl sees no difference.
 */
export function addLazyReflection(server: Server, services: string[]): void {
  let real: Registered | undefined
  for (const [i, [definition, impl]] of registrations(new ReflectionService({}, { services })).entries()) {
    const lazy: UntypedServiceImplementation = {}
    for (const name of Object.keys(impl))
      lazy[name] = ((call: unknown) => ((real ??= registrations(build(services)))[i]![1][name] as (c: unknown) => void)(call)) as never
    server.addService(definition, lazy)
  }
}
