// Date-named API versions (Fleetio's scheme): which exist, and which is current.
import { Problem, problemTypes } from './problem.js'

/** Versions from the first with cursor-paginated lists on; all answer with the same shapes here. */
export const API_VERSIONS = ['2024-01-01', '2024-03-15', '2024-06-30'] as const
export const CURRENT_API_VERSION: string = API_VERSIONS[API_VERSIONS.length - 1] as string

const known = new Set<string>(API_VERSIONS)

/** The version a request asked for by header; 400 for one that does not exist. */
export function requestedVersion(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  const value = Array.isArray(header) ? header[0] : header
  if (value !== undefined && known.has(value.trim())) return value.trim()
  throw new Problem(
    problemTypes.invalidParameter,
    `X-Api-Version ${value} is not a version of this API; known: ${API_VERSIONS.join(', ')}.`,
    {
      extensions: { parameter: 'X-Api-Version' },
    },
  )
}
