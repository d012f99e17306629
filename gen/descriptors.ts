import { fileURLToPath } from 'node:url'

/** Path of the FileDescriptorSet of every proto in proto/, for gRPC server reflection. */
export const descriptorSetPath = fileURLToPath(new URL('./descriptors.binpb', import.meta.url))
