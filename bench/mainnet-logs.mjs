// Deterministic, mainnet-shaped `logs` for the ingest benchmark. Plain JavaScript so the
// flood server (a separate `node` process) and the TypeScript bench share one generator:
// log number `seq` has the same field values in both, which is what lets the bench check
// every stored row and feed the raw-insert baseline the very rows Tidewatch stored.
//
// A pool of POOL_SIZE log templates covers BLOCKS_PER_ROUND blocks of realistic
// transactions (token transfers, approvals, Uniswap V2 and V3 swaps with their transfers,
// WETH deposits). Log `seq` is template `seq % POOL_SIZE` in round `seq / POOL_SIZE`; every
// round moves to new block numbers with new block and transaction hashes, so all rows are
// distinct: (blockHash, logIndex) is unique, as on chain.

export const POOL_SIZE = 10_000
export const BLOCKS_PER_ROUND = 40
export const LOGS_PER_BLOCK = POOL_SIZE / BLOCKS_PER_ROUND
/** Hash of block FIRST_BLOCK - 1, the head a client finds when it connects. */
export const PRE_FIRST_HASH = '0x5f1d0c6b7e6a4c1f0f3b9d2e8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29181716'
export const FIRST_BLOCK = 23_000_000
export const FIRST_TIMESTAMP = 1_755_000_000

// keccak256 of the event signatures (checked against viem's toEventSelector).
export const TOPIC = {
  transfer: '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', // Transfer(address,address,uint256)
  approval: '0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925', // Approval(address,address,uint256)
  v2Swap: '0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822', // Swap(address,uint256,uint256,uint256,uint256,address)
  v2Sync: '0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1', // Sync(uint112,uint112)
  v3Swap: '0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67', // Swap(address,address,int256,int256,uint160,uint128,int24)
  deposit: '0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c', // Deposit(address,uint256)
}

const WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2'
const TOKENS = [
  '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', // USDC
  '0xdac17f958d2ee523a2206206994597c13d831ec7', // USDT
  WETH,
  '0x6b175474e89094c44da98b954eedeac495271d0f', // DAI
  '0x2260fac5e5542a773aa44fbcfedf7c193bc2c599', // WBTC
  '0x514910771af9ca656af840dff83e8264ecf986ca', // LINK
  '0x95ad61b0a150d79219dcf64e1e6cc01f0b64c4ce', // SHIB
  '0x1f9840a85d5af5bf1d1762f925bdaddc4201f984', // UNI
]
const V2_PAIRS = ['0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc', '0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852', '0xa478c2975ab1ea89e8196811f51a7b7ade33eb11']
const V3_POOLS = ['0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640', '0x11b815efb8f581194ae79006d24e0d814b7697f6', '0xcbcdf9626bc03e24f779434178a73a0b4bad62ed']
const V2_ROUTER = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d'
const UNIVERSAL_ROUTER = '0x66a9893cc07d91d95644aedd05d03f95e1dba8af'

/** @typedef {{ blockSlot: number, txSlot: number, transactionIndex: number, logIndex: number, address: string, topics: string[], topicsJoined: string, data: string }} LogTemplate */

/** splitmix32: small, fast, deterministic. */
function prng(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

const hex8 = (n) => n.toString(16).padStart(8, '0')
const hexBytes = (next, words32) => {
  let out = ''
  for (let i = 0; i < words32; i++) out += hex8(next())
  return out
}
const hash32 = (next) => `0x${hexBytes(next, 8)}`
const address = (next) => `0x${hexBytes(next, 5)}`
/** A 32-byte ABI word holding an address (what indexed address topics look like). */
const addressWord = (addr) => `0x${'0'.repeat(24)}${addr.slice(2)}`
/** A uint256 word with a realistic magnitude: `digits` significant hex digits. */
const uintWord = (next, digits) => {
  let value = (1 + (next() % 15)).toString(16)
  while (value.length < digits) value += hex8(next())
  return value.slice(0, digits).padStart(64, '0')
}
/** A negative int256 word (two's complement: leading f's). */
const negativeWord = (next, digits) => uintWord(next, digits).replace(/^0+/, (zeros) => 'f'.repeat(zeros.length))

/** @returns {LogTemplate[]} POOL_SIZE templates, in chain order. */
function buildTemplates() {
  const next = prng(0x7dea5eed)
  const users = Array.from({ length: 2_000 }, () => address(next))
  const user = () => users[next() % users.length]
  const pick = (list) => list[next() % list.length]
  /** @type {LogTemplate[]} */
  const templates = []
  const logsPerBlock = LOGS_PER_BLOCK
  let txSlot = 0
  for (let blockSlot = 0; blockSlot < BLOCKS_PER_ROUND; blockSlot++) {
    let logIndex = 0
    let transactionIndex = 0
    while (logIndex < logsPerBlock) {
      // Not every transaction emits logs (plain ETH transfers); skip some indexes.
      transactionIndex += 1 + (next() % 3 === 0 ? next() % 3 : 0)
      /** @type {[string, string[], string][]} address, topics, data (without 0x) */
      const logs = []
      const from = user()
      const roll = next() % 100
      if (roll < 45) {
        logs.push([pick(TOKENS), [TOPIC.transfer, addressWord(from), addressWord(user())], uintWord(next, 10 + (next() % 12))])
      } else if (roll < 53) {
        logs.push([
          pick(TOKENS),
          [TOPIC.approval, addressWord(from), addressWord(pick([V2_ROUTER, UNIVERSAL_ROUTER]))],
          next() % 2 ? 'f'.repeat(64) : uintWord(next, 16),
        ])
      } else if (roll < 73) {
        // Uniswap V2 swap through the router: transfer in, transfer out, Sync, Swap.
        const pair = pick(V2_PAIRS)
        const [tokenIn, tokenOut] = next() % 2 ? [TOKENS[0], WETH] : [WETH, TOKENS[0]]
        logs.push([tokenIn, [TOPIC.transfer, addressWord(from), addressWord(pair)], uintWord(next, 14)])
        logs.push([tokenOut, [TOPIC.transfer, addressWord(pair), addressWord(from)], uintWord(next, 14)])
        logs.push([pair, [TOPIC.v2Sync], uintWord(next, 20) + uintWord(next, 22)])
        const amountIn = uintWord(next, 14)
        const amountOut = uintWord(next, 14)
        const zero = '0'.repeat(64)
        const data = next() % 2 ? amountIn + zero + zero + amountOut : zero + amountIn + amountOut + zero
        logs.push([pair, [TOPIC.v2Swap, addressWord(V2_ROUTER), addressWord(from)], data])
      } else if (roll < 93) {
        // Uniswap V3 swap through the universal router, sometimes wrapping ETH first.
        const pool = pick(V3_POOLS)
        if (next() % 4 === 0) logs.push([WETH, [TOPIC.deposit, addressWord(UNIVERSAL_ROUTER)], uintWord(next, 15)])
        logs.push([TOKENS[0], [TOPIC.transfer, addressWord(pool), addressWord(from)], uintWord(next, 12)])
        logs.push([WETH, [TOPIC.transfer, addressWord(UNIVERSAL_ROUTER), addressWord(pool)], uintWord(next, 16)])
        const tick = (195_000 + (next() % 5_000)).toString(16).padStart(64, '0')
        logs.push([
          pool,
          [TOPIC.v3Swap, addressWord(UNIVERSAL_ROUTER), addressWord(from)],
          negativeWord(next, 12) + uintWord(next, 16) + uintWord(next, 40) + uintWord(next, 19) + tick,
        ])
      } else {
        logs.push([WETH, [TOPIC.deposit, addressWord(from)], uintWord(next, 15)])
      }
      for (const [addr, topics, data] of logs) {
        if (logIndex >= logsPerBlock) break
        templates.push({ blockSlot, txSlot, transactionIndex, logIndex, address: addr, topics, topicsJoined: topics.join(','), data: `0x${data}` })
        logIndex += 1
      }
      txSlot += 1
    }
  }
  return templates
}

/** Per-round hashes, derived from the round number alone. */
export class MainnetLogs {
  /** @readonly */ templates = buildTemplates()
  /** @readonly */ txSlots = this.templates[this.templates.length - 1].txSlot + 1
  /** @type {string[]} block hash of block slot b in round r at r * BLOCKS_PER_ROUND + b */
  blockHashes = []
  /** @type {string[]} tx hash of tx slot t in round r at r * txSlots + t */
  txHashes = []
  rounds = 0

  /** Computes hashes for the first `count` logs (do it before timing anything). */
  prepare(count) {
    const rounds = Math.ceil(count / POOL_SIZE)
    for (let r = this.rounds; r < rounds; r++) {
      const next = prng(0x51ed0000 + r)
      const hashes = BLOCKS_PER_ROUND + this.txSlots
      const bytes = Buffer.allocUnsafe(hashes * 32)
      for (let offset = 0; offset < bytes.length; offset += 4) bytes.writeUInt32LE(next(), offset)
      // "0x…" text for every hash in one buffer, then one flat string each (as JSON.parse
      // would make them), not a concatenation V8 has to flatten on first use.
      const text = Buffer.allocUnsafe(hashes * 66)
      for (let h = 0; h < hashes; h++) {
        text.write('0x', h * 66, 'latin1')
        bytes.copy(text, h * 66 + 2, h * 32, h * 32 + 32)
      }
      for (let h = 0; h < hashes; h++) {
        const at = h * 66
        // Hex-encode in place: the 32 raw bytes copied above become 64 hex digits.
        text.write(text.toString('hex', at + 2, at + 34), at + 2, 'latin1')
        ;(h < BLOCKS_PER_ROUND ? this.blockHashes : this.txHashes).push(text.toString('latin1', at, at + 66))
      }
    }
    this.rounds = Math.max(this.rounds, rounds)
  }

  /** The values Tidewatch stores for log `seq` (after prepare). */
  row(seq) {
    const round = (seq / POOL_SIZE) | 0
    const t = this.templates[seq % POOL_SIZE]
    const block = round * BLOCKS_PER_ROUND + t.blockSlot
    return {
      blockNumber: FIRST_BLOCK + block,
      blockHash: this.blockHashes[block],
      transactionHash: this.txHashes[round * this.txSlots + t.txSlot],
      transactionIndex: t.transactionIndex,
      logIndex: t.logIndex,
      address: t.address,
      topics: t.topicsJoined,
      data: t.data,
    }
  }

  /** Blocks (each LOGS_PER_BLOCK logs) covered by prepare(): FIRST_BLOCK + 0 … FIRST_BLOCK + blocks - 1. */
  get blocks() {
    return this.rounds * BLOCKS_PER_ROUND
  }

  /**
   * The JSON-RPC wire form of logs and blocks, in geth's field order (logs include
   * `blockTimestamp`, which geth adds since 1.16). Static parts are prepared once; a log
   * costs one string concatenation.
   * @param {string} subscriptionId the `logs` subscription id notifications carry
   */
  wire(subscriptionId) {
    const parts = this.templates.map((t) => ({
      head: `{"address":"${t.address}","topics":${JSON.stringify(t.topics)},"data":"${t.data}","blockNumber":"0x`,
      txIndex: `","transactionIndex":"0x${t.transactionIndex.toString(16)}","blockHash":"`,
      tail: `","logIndex":"0x${t.logIndex.toString(16)}","removed":false}`,
    }))
    const blockNumbers = []
    const timestamps = []
    for (let block = 0; block < this.blocks; block++) {
      blockNumbers.push((FIRST_BLOCK + block).toString(16))
      timestamps.push((FIRST_TIMESTAMP + 12 * block).toString(16))
    }
    const ENVELOPE = `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${subscriptionId}","result":`
    const TX_HASH = '","transactionHash":"'
    const TIMESTAMP = '","blockTimestamp":"0x'
    /** The pieces of log `seq`'s JSON object, in order (all ASCII). */
    const pieces = (seq) => {
      const round = (seq / POOL_SIZE) | 0
      const index = seq % POOL_SIZE
      const t = this.templates[index]
      const p = parts[index]
      const block = round * BLOCKS_PER_ROUND + t.blockSlot
      return [
        p.head,
        blockNumbers[block],
        TX_HASH,
        this.txHashes[round * this.txSlots + t.txSlot],
        p.txIndex,
        this.blockHashes[block],
        TIMESTAMP,
        timestamps[block],
        p.tail,
      ]
    }
    const logJson = (seq) => pieces(seq).join('')

    // Block headers: a mainnet-sized header (bloom, roots, withdrawals root, blob fields);
    // eth_getBlockByNumber(n, false) adds the transaction hashes and the withdrawals.
    const txSlotsOfBlock = Array.from({ length: BLOCKS_PER_ROUND }, () => /** @type {number[]} */ ([]))
    for (const t of this.templates) {
      const list = txSlotsOfBlock[t.blockSlot]
      if (list[list.length - 1] !== t.txSlot) list.push(t.txSlot)
    }
    const next = prng(0xb10c)
    const blooms = Array.from({ length: BLOCKS_PER_ROUND }, () => hexBytes(next, 64))
    const roots = Array.from({ length: 6 }, () => hash32(next))
    const miner = address(next)
    const withdrawals = Array.from(
      { length: 16 },
      (_, i) =>
        `{"index":"0x${(90_000_000 + i).toString(16)}","validatorIndex":"0x${(1_000_000 + (next() % 900_000)).toString(16)}","address":"${address(next)}","amount":"0x${(1_000_000 + (next() % 30_000_000)).toString(16)}"}`,
    )
    /** -1 is the block before FIRST_BLOCK: where the chain stands when a client arrives. */
    const blockHash = (k) => (k === -1 ? PRE_FIRST_HASH : k < -1 ? `0x${'11'.repeat(32)}` : this.blockHashes[k])
    const header = (k) => {
      const slot = ((k % BLOCKS_PER_ROUND) + BLOCKS_PER_ROUND) % BLOCKS_PER_ROUND
      const number = FIRST_BLOCK + k
      return (
        `{"baseFeePerGas":"0x${(400_000_000 + ((k * 7919) % 300_000_000)).toString(16)}","blobGasUsed":"0x${((k % 7) * 131072).toString(16)}","difficulty":"0x0","excessBlobGas":"0x0",` +
        `"extraData":"0x6265617665726275696c642e6f7267","gasLimit":"0x2255100","gasUsed":"0x${(18_000_000 + ((k * 104729) % 17_000_000)).toString(16)}",` +
        `"hash":"${blockHash(k)}","logsBloom":"0x${k < 0 ? '0'.repeat(512) : blooms[slot]}","miner":"${miner}","mixHash":"${roots[0]}","nonce":"0x0000000000000000",` +
        `"number":"0x${number.toString(16)}","parentBeaconBlockRoot":"${roots[1]}","parentHash":"${blockHash(k - 1)}","receiptsRoot":"${roots[2]}",` +
        `"requestsHash":"0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","sha3Uncles":"0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",` +
        `"size":"0x${(90_000 + ((k * 31) % 60_000)).toString(16)}","stateRoot":"${roots[3]}","timestamp":"0x${(FIRST_TIMESTAMP + 12 * k).toString(16)}",` +
        `"transactionsRoot":"${roots[4]}","withdrawalsRoot":"${roots[5]}"`
      )
    }
    return {
      /** Log `seq` as a JSON object, as eth_getLogs and notifications carry it. */
      logJson,
      /** The logs of block FIRST_BLOCK + k as a JSON array (block -1 has none). */
      logsOfBlock: (k) => {
        if (k < 0) return '[]'
        const from = k * LOGS_PER_BLOCK
        const list = new Array(LOGS_PER_BLOCK)
        for (let i = 0; i < LOGS_PER_BLOCK; i++) list[i] = logJson(from + i)
        return `[${list.join(',')}]`
      },
      /** logsOfBlock(k) as bytes, written piece by piece (several times faster than joining strings). */
      logsOfBlockBuffer: (k) => {
        if (k < 0) return Buffer.from('[]')
        const from = k * LOGS_PER_BLOCK
        const lists = new Array(LOGS_PER_BLOCK)
        let length = 1 + LOGS_PER_BLOCK
        for (let i = 0; i < LOGS_PER_BLOCK; i++) {
          const list = (lists[i] = pieces(from + i))
          for (let j = 0; j < list.length; j++) length += list[j].length
        }
        const buffer = Buffer.allocUnsafe(length)
        let at = buffer.write('[', 0, 'latin1')
        for (let i = 0; i < LOGS_PER_BLOCK; i++) {
          if (i > 0) at += buffer.write(',', at, 'latin1')
          const list = lists[i]
          for (let j = 0; j < list.length; j++) at += buffer.write(list[j], at, 'latin1')
        }
        buffer.write(']', at, 'latin1')
        return buffer
      },
      /** Block FIRST_BLOCK + k as eth_getBlockByNumber(…, false) answers it. */
      blockJson: (k) => {
        const round = Math.floor(k / BLOCKS_PER_ROUND)
        const slot = ((k % BLOCKS_PER_ROUND) + BLOCKS_PER_ROUND) % BLOCKS_PER_ROUND
        const transactions = k < 0 ? [] : txSlotsOfBlock[slot].map((t) => `"${this.txHashes[round * this.txSlots + t]}"`)
        return `${header(k)},"transactions":[${transactions.join(',')}],"uncles":[],"withdrawals":[${withdrawals.join(',')}]}`
      },
      /** Block FIRST_BLOCK + k as a newHeads notification carries it (the header only). */
      headJson: (k) => `${header(k)}}`,
      /** Notification `seq` as a string. */
      notificationText: (seq) => `${ENVELOPE}${logJson(seq)}}}`,
      /**
       * Writes notification `seq` as a complete server-to-client WebSocket text frame (FIN,
       * unmasked: the bytes `ws` itself would put on the wire) into `buffer` at `offset`.
       * Returns the offset after it, or -1 when it does not fit.
       */
      writeNotificationFrame: (seq, buffer, offset) => {
        const list = pieces(seq)
        let length = ENVELOPE.length + 2
        for (let i = 0; i < list.length; i++) length += list[i].length
        if (length >= 65_536) throw new Error('notification too large for this writer')
        const header = length < 126 ? 2 : 4
        if (offset + header + length > buffer.length) return -1
        buffer[offset] = 0x81
        if (header === 2) buffer[offset + 1] = length
        else {
          buffer[offset + 1] = 126
          buffer.writeUInt16BE(length, offset + 2)
        }
        let at = offset + header
        at += buffer.write(ENVELOPE, at, 'latin1')
        for (let i = 0; i < list.length; i++) at += buffer.write(list[i], at, 'latin1')
        at += buffer.write('}}', at, 'latin1')
        return at
      },
    }
  }
}
