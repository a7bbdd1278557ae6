/** The person's ABIs, and the decoder built from them with the built-in events. */
import { parseAbiInput } from '../decode/abi-input'
import { EventDecoder } from '../decode/event-decoder'
import type { AbiStore } from '../store/abi-store'
import type { AbiStoreApi } from '../store/engine-store'

export class AbiService {
  private current: EventDecoder

  constructor(private readonly store: AbiStoreApi) {
    this.current = new EventDecoder(store.all())
  }

  list(): ReturnType<AbiStore['list']> {
    return this.store.list()
  }

  /** Parses the ABI text (AbiInputError names what is wrong) and decodes with it from now on. */
  add(name: string, abiText: string): ReturnType<AbiStore['add']> {
    const entry = this.store.add(name, parseAbiInput(abiText))
    this.current = new EventDecoder(this.store.all())
    return entry
  }

  remove(id: number): boolean {
    const removed = this.store.remove(id)
    this.current = new EventDecoder(this.store.all())
    return removed
  }

  /** Another instance changed the saved ABIs: decode with what is saved now. */
  reload(): void {
    this.current = new EventDecoder(this.store.all())
  }

  /** Decodes with the ABIs saved now. */
  decoder(): EventDecoder {
    return this.current
  }
}
