import { NotFoundError, type Anthropic } from '@anthropic-ai/sdk'
import type { ModelInfo } from './client.js'

/** Looks a model (id or alias) up in the Models API; undefined when the API does not know it. */
export async function lookupModel(client: Anthropic, model: string): Promise<ModelInfo | undefined> {
  try {
    return await client.models.retrieve(model)
  } catch (error) {
    if (error instanceof NotFoundError) return undefined
    throw error
  }
}
