/**
 * The `eth_subscribe` types Tidewatch speaks (the six of the Alchemy guide plus Alchemy's two
 * current names) and their parameters, validated before anything is sent upstream. Messages
 * name the field and say what is expected, for the filter builder and the API alike.
 */
import { z } from 'zod'

export const SUBSCRIPTION_TYPES = [
  'newHeads',
  'logs',
  'newPendingTransactions',
  'alchemy_newFullPendingTransactions',
  'alchemy_filteredNewFullPendingTransactions',
  'alchemy_pendingTransactions',
  'alchemy_minedTransactions',
  'syncing',
] as const
export type SubscriptionType = (typeof SUBSCRIPTION_TYPES)[number]

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const TOPIC = /^0x[0-9a-fA-F]{64}$/

/** An address: 0x and 40 hex digits; stored lowercase (matching is case-insensitive). */
export const addressSchema = z
  .string()
  .trim()
  .regex(ADDRESS, 'Not an address: expected 0x followed by 40 hex digits')
  .transform((value) => value.toLowerCase())

export const topicSchema = z
  .string()
  .trim()
  .regex(TOPIC, 'Not a topic: expected 0x followed by 64 hex digits (32 bytes)')
  .transform((value) => value.toLowerCase())

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1, 'Give at least one value, or leave the field out').max(1000, 'At most 1,000 values')])

export const logsParamsSchema = z
  .object({
    address: oneOrMany(addressSchema).optional(),
    topics: z
      .array(z.union([z.null(), topicSchema, z.array(topicSchema).min(1, 'An OR position needs at least one topic; use null for any').max(100)]))
      .max(4, 'A log has at most 4 topics')
      .optional(),
  })
  .strict()

export const filteredPendingParamsSchema = z.object({ address: oneOrMany(addressSchema) }).strict()

export const pendingTransactionsParamsSchema = z
  .object({
    fromAddress: oneOrMany(addressSchema).optional(),
    toAddress: oneOrMany(addressSchema).optional(),
    hashesOnly: z.boolean().optional(),
  })
  .strict()

export const minedTransactionsParamsSchema = z
  .object({
    addresses: z
      .array(z.object({ from: addressSchema.optional(), to: addressSchema.optional() }).strict())
      .max(1000, 'At most 1,000 address pairs')
      .optional(),
    includeRemoved: z.boolean().optional(),
    hashesOnly: z.boolean().optional(),
  })
  .strict()

const noParams = z.object({}).strict()

export const subscriptionParamsSchemas = {
  newHeads: noParams,
  logs: logsParamsSchema,
  newPendingTransactions: noParams,
  alchemy_newFullPendingTransactions: noParams,
  alchemy_filteredNewFullPendingTransactions: filteredPendingParamsSchema,
  alchemy_pendingTransactions: pendingTransactionsParamsSchema,
  alchemy_minedTransactions: minedTransactionsParamsSchema,
  syncing: noParams,
} satisfies Record<SubscriptionType, z.ZodType>

export type SubscriptionParams<T extends SubscriptionType> = z.output<(typeof subscriptionParamsSchemas)[T]>

/** A subscription request as both transports carry it: a type and its parameters. */
export const subscriptionSpecSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('newHeads'), params: noParams.default({}) }),
  z.object({ type: z.literal('logs'), params: logsParamsSchema.default({}) }),
  z.object({ type: z.literal('newPendingTransactions'), params: noParams.default({}) }),
  z.object({ type: z.literal('alchemy_newFullPendingTransactions'), params: noParams.default({}) }),
  z.object({ type: z.literal('alchemy_filteredNewFullPendingTransactions'), params: filteredPendingParamsSchema }),
  z.object({ type: z.literal('alchemy_pendingTransactions'), params: pendingTransactionsParamsSchema.default({}) }),
  z.object({ type: z.literal('alchemy_minedTransactions'), params: minedTransactionsParamsSchema.default({}) }),
  z.object({ type: z.literal('syncing'), params: noParams.default({}) }),
])
export type SubscriptionSpec = z.output<typeof subscriptionSpecSchema>

/** The `params` array of `eth_subscribe` for a spec (no second element when there are no params). */
export function ethSubscribeParams(spec: SubscriptionSpec): unknown[] {
  const hasParams = Object.keys(spec.params).length > 0
  return hasParams ? [spec.type, spec.params] : [spec.type]
}

/** A canonical key: identical subscriptions share one upstream subscription. */
export function subscriptionKey(spec: SubscriptionSpec): string {
  return JSON.stringify([spec.type, canonical(spec.params)])
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonical(v)]),
    )
  }
  return value
}
