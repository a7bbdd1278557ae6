import { useId, useMemo, useState, type ReactNode } from 'react'
import { Bar, BarChart, CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { countLabel, formatCompact } from '../../ui/format'
import { useHeads } from './useHeads'
import { BlockTooltip } from './BlockTooltip'
import { toChartData, type ChartDatum } from './chartData'
import '../../panels.css'

const CHART_RANGES = [50, 100, 250, 500] as const
type ChartRange = (typeof CHART_RANGES)[number]
const DEFAULT_RANGE: ChartRange = 100
/** Extra heads fetched beyond the range, so reorged duplicates do not shorten the window. */
const REORG_MARGIN = 64
const CHART_HEIGHT = 150
const BLOCK_TIME_COLOR = '#5b8def'
const GAS_COLOR = '#2fb38a'
const BASE_FEE_COLOR = '#d08c2f'
const TX_COLOR = '#9b6be0'
const REORG_COLOR = '#f06a6a'
const MARGIN = { top: 8, right: 12, bottom: 0, left: 0 }
const AXIS_TICK = { fontSize: 11 }

type TooltipArgs = { active?: boolean; payload?: ReadonlyArray<{ payload?: unknown }> }

/**
 * The charts share a cursor (syncId), so every chart is told which block is hovered; only the
 * chart under the pointer shows the block's tooltip, the others just their cursor.
 */
function tooltipFor(chart: string, hovered: string | null) {
  return function renderTooltip({ active, payload }: TooltipArgs) {
    if (hovered !== chart) return null
    return <BlockTooltip active={active} datum={payload?.[0]?.payload as ChartDatum | undefined} />
  }
}

function formatGweiTick(value: number): string {
  if (value === 0) return '0'
  if (value < 0.01) return value.toExponential(0)
  if (value < 10) return value.toFixed(2)
  return formatCompact(value)
}

interface CardProps {
  testId: string
  title: string
  color: string
  onHover(testId: string | null): void
  children: ReactNode
}

function ChartCard({ testId, title, color, onHover, children }: CardProps) {
  return (
    <figure className="chart-card" data-testid={testId} onMouseEnter={() => onHover(testId)} onMouseLeave={() => onHover(null)}>
      <figcaption>
        <span className="legend-swatch" style={{ background: color }} aria-hidden="true" />
        {title}
      </figcaption>
      <div className="chart-box" style={{ height: CHART_HEIGHT }}>
        <ResponsiveContainer width="100%" height={CHART_HEIGHT} minWidth={0}>
          {children}
        </ResponsiveContainer>
      </div>
    </figure>
  )
}

/** Block time, gas, base fee and transactions for the last N blocks of the selected connection, with reorgs marked. */
export function HeadsChart({ connectionId }: { connectionId: number | null }) {
  const [range, setRange] = useState<ChartRange>(DEFAULT_RANGE)
  const [hovered, setHovered] = useState<string | null>(null)
  const rangeId = useId()
  const { heads, error } = useHeads(connectionId, range + REORG_MARGIN, range > 100 ? 1000 : 250)
  const data = useMemo(() => (heads ? toChartData(heads, range) : []), [heads, range])
  const reorgs = useMemo(() => data.filter((datum) => datum.received > 1).map((datum) => datum.number), [data])

  const xAxis = <XAxis dataKey="number" tickLine={false} minTickGap={28} interval="preserveStartEnd" tick={AXIS_TICK} height={22} />
  const reorgLines = reorgs.map((number) => (
    <ReferenceLine
      key={`reorg-${number}`}
      x={number}
      stroke={REORG_COLOR}
      strokeDasharray="3 2"
      strokeWidth={1.5}
      className="chart-reorg-line"
      ifOverflow="extendDomain"
    />
  ))
  const barTooltip = (chart: string) => (
    <Tooltip isAnimationActive={false} cursor={{ fill: 'rgba(128, 128, 128, 0.14)' }} content={tooltipFor(chart, hovered)} />
  )
  const lineTooltip = (chart: string) => <Tooltip isAnimationActive={false} content={tooltipFor(chart, hovered)} />
  const grid = <CartesianGrid vertical={false} strokeDasharray="3 3" />

  return (
    <section className="panel heads-chart-panel" data-testid="heads-chart" aria-labelledby="heads-chart-title">
      <div className="panel-header">
        <h2 id="heads-chart-title">Chain activity</h2>
        {reorgs.length > 0 && (
          <span
            className="chart-reorg-legend"
            data-testid="chart-reorg-marker"
            data-count={reorgs.length}
            title={`Heights received more than once (a reorg replaced the block): ${reorgs.join(', ')}`}
          >
            <span className="chart-reorg-swatch" aria-hidden="true" />
            {countLabel(reorgs.length, 'reorg')}
          </span>
        )}
        <span className="panel-hint">{data.length >= 2 ? `last ${data.length} blocks` : ''}</span>
        <label className="chart-range" htmlFor={rangeId}>
          <span className="visually-hidden">Blocks to chart</span>
          <select id={rangeId} value={range} data-testid="chart-range" onChange={(event) => setRange(Number(event.target.value) as ChartRange)}>
            {CHART_RANGES.map((value) => (
              <option key={value} value={value}>
                {value} blocks
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p className="panel-error" role="alert">
          Could not load blocks: {error}
        </p>
      )}
      {connectionId === null ? (
        <p className="empty-text chart-placeholder" data-testid="heads-chart-empty">
          Select or add a connection to chart its blocks.
        </p>
      ) : heads === null ? (
        <p className="muted-text chart-placeholder">Loading blocks…</p>
      ) : data.length < 2 ? (
        <p className="empty-text chart-placeholder" data-testid="heads-chart-empty">
          The charts appear once this connection has received at least two blocks.
        </p>
      ) : (
        <div className="charts charts-four">
          <ChartCard testId="block-time-chart" onHover={setHovered} title="Block time (s)" color={BLOCK_TIME_COLOR}>
            <BarChart data={data} syncId="tidewatch-heads" margin={MARGIN}>
              {grid}
              {xAxis}
              <YAxis width={40} allowDecimals={false} tickLine={false} axisLine={false} tick={AXIS_TICK} />
              {barTooltip('block-time-chart')}
              {reorgLines}
              <Bar dataKey="blockTime" name="Block time" fill={BLOCK_TIME_COLOR} isAnimationActive={false} maxBarSize={14} />
            </BarChart>
          </ChartCard>
          <ChartCard testId="gas-used-chart" onHover={setHovered} title="Gas used (% of limit)" color={GAS_COLOR}>
            <LineChart data={data} syncId="tidewatch-heads" margin={MARGIN}>
              {grid}
              {xAxis}
              <YAxis
                width={40}
                domain={[0, 100]}
                ticks={[0, 25, 50, 75, 100]}
                tickFormatter={(value: number) => `${value}%`}
                tickLine={false}
                axisLine={false}
                tick={AXIS_TICK}
              />
              {lineTooltip('gas-used-chart')}
              <ReferenceLine y={50} stroke="var(--subtle)" strokeDasharray="2 3" ifOverflow="extendDomain" />
              {reorgLines}
              {seriesLine('gasPercent', 'Gas used', GAS_COLOR)}
            </LineChart>
          </ChartCard>
          <ChartCard testId="base-fee-chart" onHover={setHovered} title="Base fee (gwei)" color={BASE_FEE_COLOR}>
            <LineChart data={data} syncId="tidewatch-heads" margin={MARGIN}>
              {grid}
              {xAxis}
              <YAxis width={48} tickFormatter={formatGweiTick} tickLine={false} axisLine={false} tick={AXIS_TICK} />
              {lineTooltip('base-fee-chart')}
              {reorgLines}
              {seriesLine('baseFeeGwei', 'Base fee', BASE_FEE_COLOR)}
            </LineChart>
          </ChartCard>
          <ChartCard testId="tx-count-chart" onHover={setHovered} title="Transactions per block" color={TX_COLOR}>
            <BarChart data={data} syncId="tidewatch-heads" margin={MARGIN}>
              {grid}
              {xAxis}
              <YAxis width={40} allowDecimals={false} tickLine={false} axisLine={false} tick={AXIS_TICK} />
              {barTooltip('tx-count-chart')}
              {reorgLines}
              <Bar dataKey="txCount" name="Transactions" fill={TX_COLOR} isAnimationActive={false} maxBarSize={14} />
            </BarChart>
          </ChartCard>
        </div>
      )}
    </section>
  )
}

/** One live series: no animation (it updates every block), no dots, gaps left open. */
function seriesLine(dataKey: string, name: string, color: string) {
  return <Line type="monotone" dataKey={dataKey} name={name} stroke={color} strokeWidth={1.5} isAnimationActive={false} dot={false} connectNulls={false} />
}
