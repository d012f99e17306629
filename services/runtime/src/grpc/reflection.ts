import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import {
  status,
  type MethodDefinition,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import { BinaryReader } from '@bufbuild/protobuf/wire'
import { descriptorSetPath } from '@brewmesh/gen/descriptors.ts'

/** The two versions grpcurl and other clients ask for, each one bidirectional method. */
const VERSIONS = ['grpc.reflection.v1', 'grpc.reflection.v1alpha'] as const
const pathOf = (version: string) => `/${version}.ServerReflection/ServerReflectionInfo`

/** A version as @grpc/reflection serves it: its method (and message codecs) and its handler. */
interface Served {
  method: MethodDefinition<unknown, unknown>
  handler: (stream: EventEmitter & { write(m: unknown): void; end(): void }) => void
}

function descriptorFiles(): Buffer[] {
  const reader = new BinaryReader(readFileSync(descriptorSetPath))
  const files: Buffer[] = []
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag()
    if (field === 1) files.push(Buffer.from(reader.bytes()))
    else reader.skip(wireType)
  }
  return files
}

/**
 * @grpc/reflection over the descriptor set `buf build` wrote (every proto in proto/, their
 * well-known-type imports and grpc.health.v1), by method path. The set is handed over as its
 * FileDescriptorProto bytes (field 1, repeated) without re-encoding: proto-loader's round trip
 * through protobufjs drops well-known types and mangles map entries.
 */
async function load(services: string[]): Promise<Map<string, Served>> {
  const { ReflectionService } = await import('@grpc/reflection')
  const reflection = new ReflectionService({ brewmesh: { fileDescriptorProtos: descriptorFiles() } } as never, { services })
  const served = new Map<string, Served>()
  reflection.addToServer({
    addService: (definition: ServiceDefinition, impl: UntypedServiceImplementation) => {
      const [name, method] = Object.entries(definition)[0]!
      served.set(method.path, { method: method as MethodDefinition<unknown, unknown>, handler: impl[name] as Served['handler'] })
    },
  })
  return served
}

/**
 * Server reflection (v1 and v1alpha) describing `services`, loaded on its first call: the
 * library with proto-loader and protobufjs, the two reflection protos it parses, and the index of
 * every file of the descriptor set, comments included. Loaded at start they were memory a service
 * kept while nobody runs grpcurl (what this and the health service on gen's stubs saved together:
 * bench/README.md, service-lifecycle, ninth session). The two methods are registered at once with
 * raw bytes in and out, so grpcurl sees no difference: a call's messages wait in its stream until
 * the library is loaded, then go through its codecs and its handler in order.
 */
export function addLazyReflection(server: Server, services: string[]): void {
  let loading: Promise<Map<string, Served>> | undefined
  const raw = (bytes: Buffer) => bytes
  for (const version of VERSIONS) {
    const path = pathOf(version)
    const definition: ServiceDefinition = {
      ServerReflectionInfo: {
        path,
        requestStream: true,
        responseStream: true,
        originalName: 'serverReflectionInfo',
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    }
    const handler = (stream: ServerDuplexStream<Buffer, Buffer>) => {
      const fail = (details: string) => stream.emit('error', { code: status.INTERNAL, details })
      ;(loading ??= load(services)).then(
        (served) => {
          const { method, handler: serve } = served.get(path)!
          const decoded = Object.assign(new EventEmitter(), {
            write: (message: unknown) => stream.write(method.responseSerialize(message)),
            end: () => stream.end(),
          })
          serve(decoded)
          stream.on('data', (bytes: Buffer) => {
            let message: unknown
            try {
              message = method.requestDeserialize(bytes)
            } catch {
              return void stream.emit('error', { code: status.INVALID_ARGUMENT, details: 'the request is not a ServerReflectionRequest' })
            }
            decoded.emit('data', message)
          })
          stream.on('end', () => decoded.emit('end'))
        },
        (err: unknown) => {
          loading = undefined
          fail(`server reflection could not be loaded: ${err instanceof Error ? err.message : String(err)}`)
        },
      )
    }
    server.addService(definition, { ServerReflectionInfo: handler })
  }
}
