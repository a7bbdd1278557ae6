import { useMemo } from 'react'
import { Area, AreaChart, Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { formatCompact } from '../format'
import { useHeads } from '../hooks/useHeads'
import { BlockTooltip } from './BlockTooltip'
import { toChartData, type ChartDatum } from './chartData'

const CHART_LIMIT = 100
const CHART_HEIGHT = 180
const BLOCK_TIME_COLOR = '#5b8def'
const GAS_COLOR = '#2fb38a'
const MARGIN = { top: 8, right: 12, bottom: 0, left: 0 }

function renderTooltip({ active, payload }: { active?: boolean; payload?: ReadonlyArray<{ payload?: unknown }> }) {
  return <BlockTooltip active={active} datum={payload?.[0]?.payload as ChartDatum | undefined} />
}

/** Block time and gas used for the last blocks of the selected connection. */
export function HeadsChart({ connectionId }: { connectionId: number | null }) {
  const { heads, error } = useHeads(connectionId, CHART_LIMIT)
  const data = useMemo(() => (heads ? toChartData(heads) : []), [heads])

  const xAxis = (
    <XAxis
      dataKey="number"
      tickLine={false}
      minTickGap={28}
      interval="preserveStartEnd"
      tick={{ fontSize: 11 }}
      height={22}
    />
  )

  return (
    <section className="panel heads-chart-panel" data-testid="heads-chart" aria-labelledby="heads-chart-title">
      <div className="panel-header">
        <h2 id="heads-chart-title">Chain activity</h2>
        {data.length >= 2 && <span className="panel-hint">last {data.length} blocks</span>}
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
        <div className="charts">
          <figure className="chart-card" data-testid="block-time-chart">
            <figcaption>
              <span className="legend-swatch" style={{ background: BLOCK_TIME_COLOR }} aria-hidden="true" />
              Block time (s)
            </figcaption>
            <div className="chart-box" style={{ height: CHART_HEIGHT }}>
              <ResponsiveContainer width="100%" height={CHART_HEIGHT} minWidth={0}>
                <BarChart data={data} syncId="tidewatch-heads" margin={MARGIN}>
                  <CartesianGrid vertical={false} strokeDasharray="3 3" />
                  {xAxis}
                  <YAxis width={40} allowDecimals={false} tickLine={false} axisLine={false} tick={{ fontSize: 11 }} />
                  <Tooltip
                    isAnimationActive={false}
                    cursor={{ fill: 'rgba(128, 128, 128, 0.14)' }}
                    content={renderTooltip}
                  />
                  <Bar dataKey="blockTime" name="Block time" fill={BLOCK_TIME_COLOR} isAnimationActive={false} maxBarSize={14} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          </figure>
          <figure className="chart-card" data-testid="gas-used-chart">
            <figcaption>
              <span className="legend-swatch" style={{ background: GAS_COLOR }} aria-hidden="true" />
              Gas used
            </figcaption>
            <div className="chart-box" style={{ height: CHART_HEIGHT }}>
              <ResponsiveContainer width="100%" height={CHART_HEIGHT} minWidth={0}>
                <AreaChart data={data} syncId="tidewatch-heads" margin={MARGIN}>
                  <CartesianGrid vertical={false} strokeDasharray="3 3" />
                  {xAxis}
                  <YAxis
                    width={48}
                    tickFormatter={(value: number) => formatCompact(value)}
                    tickLine={false}
                    axisLine={false}
                    tick={{ fontSize: 11 }}
                  />
                  <Tooltip isAnimationActive={false} content={renderTooltip} />
                  <Area
                    type="monotone"
                    dataKey="gasUsed"
                    name="Gas used"
                    stroke={GAS_COLOR}
                    strokeWidth={1.5}
                    fill={GAS_COLOR}
                    fillOpacity={0.22}
                    isAnimationActive={false}
                    dot={false}
                  />
                </AreaChart>
              </ResponsiveContainer>
            </div>
          </figure>
        </div>
      )}
    </section>
  )
}
