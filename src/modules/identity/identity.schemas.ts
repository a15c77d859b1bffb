// Shapes of the identity resources (CONTRACT §2): users, accounts, API keys, OAuth clients.
import { type Static, Type } from 'typebox'
import { ROLES, SCOPES } from '../../http/access.js'

const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991, format: 'int64' })
const Timestamp = Type.String({ format: 'date-time', maxLength: 40 })
const Name = Type.String({ maxLength: 255 })
export const RoleSchema = Type.Enum([...ROLES])
export const ScopeSchema = Type.Enum([...SCOPES])

const MEMBER_NAME =
  "The account's own name for the member, as given when it added them (each account keeps its own); " +
  "/users/me without Account-Token: the name the user was created with, or, with a key bound to an account, that account's name"

export const User = Type.Object({
  id: Id,
  email: Type.String({ format: 'email', maxLength: 255 }),
  first_name: Type.Union([Name, Type.Null()], { description: MEMBER_NAME }),
  last_name: Type.Union([Name, Type.Null()], { description: MEMBER_NAME }),
  role: Type.Union([RoleSchema, Type.Null()], { description: 'Role in the account of the call; null without Account-Token' }),
  created_at: Timestamp,
})
export type User = Static<typeof User>

export const CreateUser = Type.Object(
  {
    email: Type.String({ format: 'email', minLength: 1, maxLength: 255 }),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    role: RoleSchema,
  },
  { additionalProperties: false },
)

export const UpdateUser = Type.Object({ role: RoleSchema }, { additionalProperties: false })

export const Account = Type.Object({
  id: Id,
  name: Name,
  account_token: Type.String({ maxLength: 64 }),
  role: RoleSchema,
})
export type Account = Static<typeof Account>

export const ApiKey = Type.Object({
  id: Id,
  name: Type.Union([Name, Type.Null()]),
  prefix: Type.String({ maxLength: 32, description: 'The first characters of the key, to recognise it' }),
  user_id: Id,
  account_id: Type.Union([Id, Type.Null()], {
    description:
      "The one account the key acts in: a key made by an admin for another member, or with such a key. Null: the user's own key, acting in all their accounts",
  }),
  api_version: Type.String({ maxLength: 10 }),
  created_at: Timestamp,
  last_used_at: Type.Union([Timestamp, Type.Null()]),
})
export type ApiKey = Static<typeof ApiKey>

export const CreatedApiKey = Type.Object({
  ...ApiKey.properties,
  api_key: Type.String({ maxLength: 64, description: 'The secret: shown this once, stored only as a hash' }),
})

export const CreateApiKey = Type.Object({ name: Type.Optional(Name), user_id: Type.Optional(Id) }, { additionalProperties: false })

export const OAuthClient = Type.Object({
  id: Id,
  name: Name,
  client_id: Type.String({ maxLength: 64 }),
  scopes: Type.Array(ScopeSchema, { maxItems: SCOPES.length }),
  created_at: Timestamp,
})
export type OAuthClient = Static<typeof OAuthClient>

export const CreatedOAuthClient = Type.Object({
  ...OAuthClient.properties,
  client_secret: Type.String({ maxLength: 64, description: 'The secret: shown this once, stored only as a hash' }),
})

export const CreateOAuthClient = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }), scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: SCOPES.length }) },
  { additionalProperties: false },
)
