/**
 * Events every monitor should know without an ABI: token standards, WETH and the Uniswap
 * swaps. Shared by the filter builder (topics) and the decoder (arguments).
 */
export interface CatalogEvent {
  /** Short label for pickers. */
  label: string
  /** Human-readable signature, as viem's parseAbiItem takes it. */
  signature: string
}

export const BUILT_IN_EVENTS: readonly CatalogEvent[] = [
  { label: 'ERC-20 Transfer', signature: 'event Transfer(address indexed from, address indexed to, uint256 value)' },
  { label: 'ERC-20 Approval', signature: 'event Approval(address indexed owner, address indexed spender, uint256 value)' },
  { label: 'ERC-721 Transfer', signature: 'event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)' },
  { label: 'ERC-721 Approval', signature: 'event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId)' },
  { label: 'ApprovalForAll (ERC-721/1155)', signature: 'event ApprovalForAll(address indexed owner, address indexed operator, bool approved)' },
  {
    label: 'ERC-1155 TransferSingle',
    signature: 'event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value)',
  },
  {
    label: 'ERC-1155 TransferBatch',
    signature: 'event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values)',
  },
  { label: 'WETH Deposit', signature: 'event Deposit(address indexed dst, uint256 wad)' },
  { label: 'WETH Withdrawal', signature: 'event Withdrawal(address indexed src, uint256 wad)' },
  {
    label: 'Uniswap V2 Swap',
    signature: 'event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out, address indexed to)',
  },
  {
    label: 'Uniswap V3 Swap',
    signature:
      'event Swap(address indexed sender, address indexed recipient, int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick)',
  },
]
