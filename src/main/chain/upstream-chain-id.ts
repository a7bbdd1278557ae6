/** The upstream's chain id (eth_chainId), asked once and kept; a failed or malformed answer is asked again next time. */
export function upstreamChainId(ask: () => Promise<unknown>): () => Promise<number> {
  let answer: Promise<number> | null = null
  return () => {
    answer ??= ask().then((result) => {
      if (typeof result !== 'string' || !/^0x[0-9a-f]{1,13}$/i.test(result))
        throw new Error(`the upstream answered eth_chainId with ${JSON.stringify(result)?.slice(0, 80)}, not a chain id`)
      return Number(result)
    })
    answer.catch(() => (answer = null))
    return answer
  }
}
