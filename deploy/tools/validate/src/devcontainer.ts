import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser'
import { parse as parseYaml } from 'yaml'
import type { Report } from './report.ts'

// ajv-formats is CommonJS with a default export: under NodeNext the function is its `default`.
const addFormats = addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv }

interface DevcontainerConfig {
  dockerComposeFile?: string | string[]
  service?: string
}

/** devcontainer.json (JSON with comments, no trailing commas) against the schema, and its compose file defines its service. */
export function validateDevcontainer(file: string, schemaFile: string): Report {
  const problems: string[] = []
  const errors: ParseError[] = []
  const config = parseJsonc(readFileSync(file, 'utf8'), errors, { allowTrailingComma: false }) as DevcontainerConfig
  for (const e of errors) problems.push(`${file}: JSON with comments: ${printParseErrorCode(e.error)} at offset ${e.offset}`)
  if (errors.length) return { problems, summary: `${file}: does not parse` }
  const ajv = new Ajv({ allErrors: true, strict: false })
  addFormats.default(ajv)
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object)
  if (!validate(config))
    for (const e of validate.errors ?? []) problems.push(`${file}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
  for (const c of [config.dockerComposeFile ?? []].flat()) {
    const path = resolve(dirname(file), c)
    if (!existsSync(path)) {
      problems.push(`${file}: dockerComposeFile ${c} does not exist`)
      continue
    }
    const services = (parseYaml(readFileSync(path, 'utf8')) as { services?: Record<string, unknown> } | null)?.services ?? {}
    if (config.service && !(config.service in services)) problems.push(`${file}: service "${config.service}" is not defined in ${c}`)
  }
  return { problems, summary: `${file}: valid` }
}
