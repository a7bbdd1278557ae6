/**
 * Frames of the UI WebSocket transport (headless mode). The same commands and events as
 * Electron IPC, wrapped with a correlation id.
 */
import { z } from 'zod'
import { COMMAND_NAMES, EVENT_NAMES } from './channels'
import { commandErrorSchema } from './contract'

export const UI_SOCKET_PATH = '/ui'

export const uiClientFrameSchema = z.object({
  id: z.number().int().nonnegative(),
  command: z.enum(COMMAND_NAMES),
  payload: z.unknown(),
})
export type UiClientFrame = z.infer<typeof uiClientFrameSchema>

export const uiServerFrameSchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: commandErrorSchema }),
  z.object({ event: z.enum(EVENT_NAMES), payload: z.unknown() }),
])
export type UiServerFrame = z.infer<typeof uiServerFrameSchema>
