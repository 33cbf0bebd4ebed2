/**
 * The simulator's model catalogue (Models API, and the model checks of batch requests and count_tokens).
 *
 * Shapes come from the real SDK's `ModelInfo` type, so a field the SDK expects can't silently go missing.
 * Ids and lifecycle follow batch-api.md §6/§7 (state of late Nov 2026); dates and token limits the doc does not
 * give are plausible values, not facts. Lifecycle is static: it does not change when a test moves the clock.
 */
import type { ModelCapabilities, ModelInfo } from '@anthropic-ai/sdk/resources/models'

/** A catalogue entry: the `ModelInfo` the API returns, plus the aliases that resolve to it. */
export interface SimModel extends ModelInfo {
  aliases?: string[]
}

type ThinkingType = 'adaptive' | 'enabled' | 'disabled' | 'between_tools'

interface CapabilityOptions {
  batch?: boolean
  thinking: ThinkingType[]
  /** Effort levels beyond low/medium/high. */
  extraEffort?: Array<'max' | 'xhigh'>
}

function capabilities({ batch = true, thinking, extraEffort = [] }: CapabilityOptions): ModelCapabilities {
  const yes = { supported: true }
  const flag = (supported: boolean) => ({ supported })
  const effort = extraEffort.length > 0 || thinking.includes('adaptive')
  return {
    batch: flag(batch),
    citations: yes,
    code_execution: yes,
    context_management: {
      supported: true,
      clear_thinking_20251015: yes,
      clear_tool_uses_20250919: yes,
      compact_20260112: flag(thinking.includes('adaptive'))
    },
    effort: {
      supported: effort,
      low: flag(effort),
      medium: flag(effort),
      high: flag(effort),
      max: flag(extraEffort.includes('max')),
      xhigh: flag(extraEffort.includes('xhigh'))
    },
    image_input: yes,
    pdf_input: yes,
    server_tools: { supported: true, code_execution: yes, web_search: yes },
    structured_outputs: yes,
    thinking: {
      supported: thinking.some((t) => t !== 'disabled'),
      types: {
        adaptive: flag(thinking.includes('adaptive')),
        enabled: flag(thinking.includes('enabled')),
        disabled: flag(thinking.includes('disabled')),
        between_tools: flag(thinking.includes('between_tools'))
      }
    }
  }
}

interface ModelSpec {
  id: string
  display_name: string
  created: string // YYYY-MM-DD
  line: ModelInfo['line']
  max_tokens: number
  max_input_tokens: number
  capabilities: ModelCapabilities
  lifecycle?: ModelInfo['lifecycle']
  deprecated?: string
  retires?: string
  aliases?: string[]
}

const day = (date: string): string => `${date}T00:00:00Z`

function model(spec: ModelSpec): SimModel {
  return {
    type: 'model',
    id: spec.id,
    display_name: spec.display_name,
    created_at: day(spec.created),
    lifecycle: spec.lifecycle ?? 'active',
    line: spec.line,
    deprecated_at: spec.deprecated ? day(spec.deprecated) : null,
    retires_at: spec.retires ? day(spec.retires) : null,
    max_input_tokens: spec.max_input_tokens,
    max_tokens: spec.max_tokens,
    capabilities: spec.capabilities,
    ...(spec.aliases ? { aliases: spec.aliases } : {})
  }
}

// The 5.x models accept only adaptive thinking (an `enabled` thinking config is an errored row, like the
// "thinking.type.enabled is not supported for this model" rows in batch-api.md §3.2); 4.6 accepts both; 4.5 only `enabled`.
const FIVE = capabilities({ thinking: ['adaptive', 'disabled', 'between_tools'], extraEffort: ['max', 'xhigh'] })
const FOUR_SIX = capabilities({ thinking: ['adaptive', 'enabled', 'disabled'], extraEffort: ['max'] })
const FOUR_FIVE = capabilities({ thinking: ['enabled', 'disabled'] })

/** Newest first, as the Models API lists them. */
export const DEFAULT_MODELS: readonly SimModel[] = [
  model({ id: 'claude-haiku-5-5', display_name: 'Claude Haiku 5.5', created: '2026-10-07', line: 'haiku', max_tokens: 64_000, max_input_tokens: 200_000, capabilities: FIVE }),
  model({
    id: 'claude-sonnet-5-5',
    display_name: 'Claude Sonnet 5.5',
    created: '2026-09-28',
    line: 'sonnet',
    max_tokens: 128_000,
    max_input_tokens: 1_000_000,
    capabilities: FIVE
  }),
  model({ id: 'claude-opus-5-5', display_name: 'Claude Opus 5.5', created: '2026-08-18', line: 'opus', max_tokens: 128_000, max_input_tokens: 1_000_000, capabilities: FIVE }),
  // A research preview that is not offered through the Batch API: preflight must catch it.
  model({
    id: 'claude-mythos-preview',
    display_name: 'Claude Mythos Preview',
    created: '2026-04-07',
    line: 'mythos',
    max_tokens: 128_000,
    max_input_tokens: 1_000_000,
    capabilities: capabilities({ batch: false, thinking: ['adaptive', 'disabled'], extraEffort: ['max'] })
  }),
  model({
    id: 'claude-sonnet-4-6',
    display_name: 'Claude Sonnet 4.6',
    created: '2026-02-17',
    line: 'sonnet',
    max_tokens: 64_000,
    max_input_tokens: 1_000_000,
    capabilities: FOUR_SIX
  }),
  model({ id: 'claude-opus-4-6', display_name: 'Claude Opus 4.6', created: '2026-02-05', line: 'opus', max_tokens: 128_000, max_input_tokens: 1_000_000, capabilities: FOUR_SIX }),
  model({
    id: 'claude-haiku-4-5-20251001',
    display_name: 'Claude Haiku 4.5',
    created: '2025-10-01',
    line: 'haiku',
    max_tokens: 64_000,
    max_input_tokens: 200_000,
    capabilities: FOUR_FIVE,
    aliases: ['claude-haiku-4-5']
  }),
  model({
    id: 'claude-sonnet-4-5-20250929',
    display_name: 'Claude Sonnet 4.5',
    created: '2025-09-29',
    line: 'sonnet',
    max_tokens: 64_000,
    max_input_tokens: 1_000_000,
    capabilities: FOUR_FIVE,
    aliases: ['claude-sonnet-4-5'],
    lifecycle: 'deprecated',
    deprecated: '2026-08-01',
    retires: '2026-11-30'
  }),
  model({
    id: 'claude-3-5-haiku-20241022',
    display_name: 'Claude Haiku 3.5',
    created: '2024-10-22',
    line: 'haiku',
    max_tokens: 8_192,
    max_input_tokens: 200_000,
    capabilities: capabilities({ thinking: ['disabled'] }),
    aliases: ['claude-3-5-haiku-latest'],
    lifecycle: 'retired',
    deprecated: '2025-10-28',
    retires: '2026-02-19'
  })
]

/** Finds a model by id or alias, whatever its lifecycle. */
export function findModel(models: readonly SimModel[], idOrAlias: string): SimModel | undefined {
  return models.find((m) => m.id === idOrAlias) ?? models.find((m) => m.aliases?.includes(idOrAlias))
}

/** A model that requests may use: known and not retired (retired models answer not_found, like unknown ones). */
export function findServedModel(models: readonly SimModel[], idOrAlias: string): SimModel | undefined {
  const found = findModel(models, idOrAlias)
  return found && found.lifecycle !== 'retired' ? found : undefined
}

/** The wire object: a catalogue entry without the simulator-only `aliases`. */
export function toModelInfo({ aliases: _aliases, ...info }: SimModel): ModelInfo {
  return info
}

/** Catalogue ordered newest first (by created_at, catalogue order breaking ties), as the list endpoint needs. */
export function newestFirst(models: readonly SimModel[]): SimModel[] {
  return models
    .map((m, index) => ({ m, index }))
    .sort((a, b) => b.m.created_at.localeCompare(a.m.created_at) || a.index - b.index)
    .map(({ m }) => m)
}
