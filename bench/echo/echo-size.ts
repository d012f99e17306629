// Sizing the echo response like the response of the call it stands in for, so both move the
// same bytes: EchoResponse is {id = 1, payload = 2}, each a length-delimited field.

/** Bytes of a length-delimited field's header: the tag (1 byte here) and the length varint. */
const fieldHeader = (length: number) => 1 + (length < 128 ? 1 : length < 16_384 ? 2 : 3)

/** Encoded size of EchoResponse{id, payload of payloadBytes}. */
export const echoResponseBytes = (id: string, payloadBytes: number) =>
  fieldHeader(id.length) + id.length + fieldHeader(payloadBytes) + payloadBytes

/** The payload size that makes EchoResponse{id, payload} as long as `responseBytes` (or just under). */
export function echoPayloadFor(responseBytes: number, id: string): number {
  let payload = Math.max(0, responseBytes - fieldHeader(id.length) - id.length - 2)
  while (payload > 0 && echoResponseBytes(id, payload) > responseBytes) payload -= 1
  return payload
}
