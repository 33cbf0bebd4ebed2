// node --import ./scripts/json-import.mjs …: lets @actions/languageservice load its JSON schema.
import { register } from 'node:module'

register('./json-import-hook.mjs', import.meta.url)
